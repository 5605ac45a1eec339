/*! \file deferred/reactor.h
 *  \brief df_reactor: one thread that runs timed calls, watches file
 *  descriptors and receives calls from other threads (Twisted's reactor).
 *
 *  A reactor is driven by one thread at a time, the reactor thread: the one
 *  inside df_reactor_run(), df_reactor_run_once() or df_reactor_advance(), or
 *  the thread that created it before any of those ran. Everything in this
 *  header runs on the reactor thread, except three thread-safe entries:
 *  df_reactor_stop(), df_call_from_thread() and df_async_send().
 *  Deferreds are fired only on the reactor thread (C1).
 *
 *  A round (df_reactor_run_once()) is a list of phases:
 *  1. io: wait for file descriptors (no longer than the next timer, or not at
 *     all when something is due), then call the watches that are ready;
 *  2. thread calls: run what other threads queued with df_call_from_thread()
 *     and the df_async handles that were sent;
 *  3. timers: run the timers that are due, in (deadline, scheduling) order.
 *  Each phase works on a snapshot taken when it starts: a timer scheduled, or
 *  a call queued, while a phase runs waits for the next round. A round never
 *  loops without bound.
 *
 *  Wake-ups from other threads go through a self-pipe and are coalesced: a
 *  producer writes one byte only when no wake-up is pending, so under load one
 *  wake-up serves many calls.
 *
 *  Time is a monotonic clock read once per phase, or, with
 *  df_reactor_options.manual_clock, a clock that only df_reactor_advance()
 *  moves (like Twisted's task.Clock): tests of timeouts use it instead of
 *  sleeping.
 *
 *  Embedding in a loop that is not ours: df_reactor_fd() is readable whenever
 *  a round has work (a watched fd is ready, a timer is due, another thread
 *  called in); poll it and call df_reactor_run_once(r, 0) when it is.
 */
#ifndef DEFERRED_REACTOR_H
#define DEFERRED_REACTOR_H

#include <stdbool.h>

#include "deferred.h"
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! An opaque reactor. */
typedef struct df_reactor df_reactor;
/*! An opaque timed call, made by df_call_later(). */
typedef struct df_timer df_timer;
/*! An opaque file-descriptor watch, made by df_watch_fd(). */
typedef struct df_watch df_watch;
/*! An opaque, reusable wake-up handle, made by df_async_new(). */
typedef struct df_async df_async;

/*! Options of df_reactor_new(). Zero-initialise, then set what you need. */
typedef struct df_reactor_options {
  /*! Never read the system clock: time starts at 0 and moves only by
   *  df_reactor_advance(). Rounds still wait for fds and thread calls, but
   *  never for a timer to fall due. */
  bool manual_clock;
} df_reactor_options;

/* ---------------------------------------------------------------- life */

/*! \brief Makes a reactor: an epoll set, a self-pipe for wake-ups and a
 *  timer fd, all close-on-exec.
 *  \param out receives the reactor (set to NULL on error); must not be NULL.
 *  \param opts borrowed, read during the call only; NULL gives the defaults
 *         (system monotonic clock).
 *  \return 0; DF_EINVAL when \p out is NULL; DF_ENOMEM; or the negative errno
 *          of epoll_create1(), pipe2(), timerfd_create() or epoll_ctl()
 *          (e.g. -EMFILE); nothing is left open on error.
 *  The calling thread becomes the reactor thread until a run starts. */
DF_EXTERN int df_reactor_new(df_reactor **out, const df_reactor_options *opts);

/*! \brief Frees a reactor that has nothing left to do.
 *  \return 0 when freed; DF_EBUSY, and nothing is freed, while any timer,
 *          watch or df_async handle is live, while calls queued by
 *          df_call_from_thread() have not run yet, or when called from inside
 *          a round (a callback of this reactor). NULL is a no-op returning 0.
 *  The internal wake-up pipe never makes it busy. Threads still inside
 *  df_reactor_stop() or df_call_from_thread() are waited for first (so a
 *  thread whose stop ended the run need not be joined), and a call they
 *  queued makes the result DF_EBUSY.
 *  Reactor thread only. Restrictions: no thread may enter a function on
 *  \p r once this call has started.
 *  \param r the reactor; NULL is a no-op. */
DF_EXTERN int df_reactor_free(df_reactor *r);

/* ---------------------------------------------------------------- running */

/*! \brief Runs rounds until df_reactor_stop() is called (Twisted's
 *  reactor.run). The calling thread becomes the reactor thread.
 *  \return 0 after a stop; DF_EINVAL when \p r is NULL; DF_EBUSY when called
 *          from inside a round of \p r; or the negative errno of a failed
 *          epoll_wait() (EINTR is retried, not returned).
 *  A stop requested before the call makes it return after one round.
 *  \param r the reactor. */
DF_EXTERN int df_reactor_run(df_reactor *r);

/*! \brief Runs one round: io, thread calls, timers (see the file comment).
 *  \param timeout_ms how long the io phase may wait when nothing is due:
 *         0 polls, -1 waits until an fd is ready, a timer falls due, another
 *         thread calls in, or a stop is requested.
 *  \return 0; 1 when df_reactor_stop() was requested (the request is consumed
 *          by this return, so an embedding loop can leave); DF_EINVAL when
 *          \p r is NULL; DF_EBUSY when called from inside a round of \p r
 *          (rounds do not nest); or the negative errno of epoll_wait().
 *  The calling thread becomes the reactor thread.
 *  \param r the reactor. */
DF_EXTERN int df_reactor_run_once(df_reactor *r, int timeout_ms);

/*! \brief Asks the reactor to stop: the round in progress (or the next one)
 *  finishes, then df_reactor_run() returns 0 and df_reactor_run_once()
 *  returns 1. Calls queued so far are not lost: they run in later rounds.
 *  Thread-safe. NULL is a no-op. \p r must be alive when the call starts;
 *  once the run it stopped has returned, df_reactor_free() may run at once
 *  (it waits for this call to finish).
 *  \param r the reactor; NULL is a no-op. */
DF_EXTERN void df_reactor_stop(df_reactor *r);

/*! \brief The pollable descriptor of the reactor (its epoll set). It is
 *  readable when a round has work: a watched fd is ready, a timer is due
 *  (system clock only: a manual clock never makes it readable), another
 *  thread called df_call_from_thread()/df_async_send() or df_reactor_stop().
 *  Only poll it; the reactor owns it and closes it in df_reactor_free().
 *  \return the fd, or DF_EINVAL when \p r is NULL. Any thread.
 *  \param r the reactor. */
DF_EXTERN int df_reactor_fd(const df_reactor *r);

/*! \brief The reactor's time in seconds: the monotonic clock as last read by
 *  a phase (or by this call outside a round), or the manual clock.
 *  \return seconds; 0 when \p r is NULL. Reactor thread only.
 *  \param r the reactor, or NULL (0). */
DF_EXTERN double df_reactor_now(const df_reactor *r);

/*! \brief Manual clock only: moves time forward by \p seconds, then runs every
 *  timer that is due, in (deadline, scheduling) order, including timers that
 *  those timers schedule at or before the new time (like task.Clock.advance;
 *  each such batch is a snapshot of its own).
 *  \return 0; DF_EINVAL when \p r is NULL, its clock is not manual, or
 *          \p seconds is negative or not a number; DF_EBUSY when called from
 *          inside a round or another advance of \p r; DF_EAGAIN when timers
 *          kept scheduling due timers for 10000 batches (time has moved; the
 *          remaining due timers run on the next advance or round).
 *  Reactor thread only (the calling thread becomes it).
 *  \param r a reactor with a manual clock.
 *  \param seconds how far to move the clock, at least 0. */
DF_EXTERN int df_reactor_advance(df_reactor *r, double seconds);

/*! \brief True on the reactor thread: the thread that last entered
 *  df_reactor_run(), df_reactor_run_once() or df_reactor_advance(), or the
 *  thread that created \p r before any of those ran.
 *  \return false when \p r is NULL. Any thread.
 *  \param r the reactor, or NULL (false). */
DF_EXTERN bool df_reactor_in_thread(const df_reactor *r);

/* ---------------------------------------------------------------- timers */

/*! A timer's function (df_call_later()). */
typedef void (*df_timer_fn)(void *arg);

/*! \brief Schedules \p fn(\p arg) to run \p seconds from now (Twisted's
 *  callLater). Timers with equal deadlines run in the order they were
 *  scheduled; a deadline too far away to represent is clamped to the largest
 *  one (the timer then never runs in practice).
 *  \param seconds >= 0; 0 runs in the timers phase of the next round.
 *  \param out receives the timer handle, owned by the reactor; NULL when
 *         the caller will never cancel or reset the timer. Set to NULL on
 *         error.
 *  \param arg borrowed; must stay valid until \p fn ran or the timer was
 *         cancelled.
 *  \return 0; DF_EINVAL when \p r or \p fn is NULL or \p seconds is negative
 *          or not a number; DF_ENOMEM.
 *  Handle lifetime: valid until \p fn has returned or df_timer_cancel() was
 *  called. Inside \p fn, the handle is still valid: df_timer_reset() re-arms
 *  it (a periodic timer; it then stays valid), df_timer_cancel() cancels
 *  that re-arm. After that, using the handle is a use after free: clear your
 *  copy of the pointer inside \p fn.
 *  Reactor thread only.
 *  \param r the reactor.
 *  \param fn called on the reactor thread when the delay has passed. */
DF_EXTERN int df_call_later(df_timer **out, df_reactor *r, double seconds,
                            df_timer_fn fn, void *arg);

/*! \brief Cancels a timer that has not run: its function will not be called
 *  and the handle is freed. Called inside the timer's own function, it
 *  cancels a df_timer_reset() made there (if any); the handle is freed when
 *  the function returns. A timer already due in the current round is
 *  cancelled too. NULL is a no-op. Reactor thread only.
 *  Restrictions: \p t must be a valid handle (see df_call_later()).
 *  \param t the timer; NULL is a no-op. */
DF_EXTERN void df_timer_cancel(df_timer *t);

/*! \brief Re-arms \p t to run \p seconds from now, after every timer already
 *  scheduled for the same deadline (Twisted's DelayedCall.reset). Works on a
 *  timer that is waiting, due in the current round (it leaves that round), or
 *  running (inside its own function: it will run again).
 *  \return 0; DF_EINVAL when \p t is NULL, \p seconds is negative or not a
 *          number, or \p t was cancelled inside its own function.
 *  Reactor thread only. Restrictions: \p t must be a valid handle.
 *  \param t the timer.
 *  \param seconds the new delay from now, at least 0. */
DF_EXTERN int df_timer_reset(df_timer *t, double seconds);

/* ---------------------------------------------------------------- fds */

/*! Interest and event bits of a watch. DF_HANGUP and DF_IO_ERROR are always
 *  reported while a watch has some interest; they cannot be asked for. */
enum { DF_READABLE = 1, DF_WRITABLE = 2, DF_HANGUP = 4, DF_IO_ERROR = 8 };

/*! Called in the io phase with the events that are ready on \p fd (a subset
 *  of the watch's interest, plus DF_HANGUP/DF_IO_ERROR). */
typedef void (*df_watch_fn)(df_watch *w, int fd, unsigned events, void *arg);

/*! \brief Watches \p fd for \p events (level-triggered: \p fn is called every
 *  round while the fd stays ready).
 *  \param fd borrowed: the caller keeps it open while watched and stops the
 *         watch before closing it. One watch per fd per reactor (a paused
 *         watch is outside the epoll set, so a clash with it shows when it
 *         is resumed).
 *  \param events DF_READABLE and/or DF_WRITABLE; 0 makes a paused watch.
 *  \param arg borrowed; must outlive the watch.
 *  \param out receives the watch, owned by the reactor until df_watch_stop();
 *         NULL on error. Must not be NULL.
 *  \return 0; DF_EINVAL when \p out, \p r or \p fn is NULL, \p fd is
 *          negative or \p events has other bits; -EEXIST when \p fd is
 *          already watched; -EPERM (a regular file) or -EBADF when the fd
 *          cannot be polled; DF_ENOMEM.
 *  Reactor thread only.
 *  \param r the reactor.
 *  \param fn called on the reactor thread when \p fd is ready. */
DF_EXTERN int df_watch_fd(df_watch **out, df_reactor *r, int fd,
                          unsigned events, df_watch_fn fn, void *arg);

/*! \brief Changes the interest of \p w; 0 pauses it (no event at all, not
 *  even DF_HANGUP). An event already collected in the current round is
 *  delivered only for bits still of interest.
 *  \return 0; DF_EINVAL when \p w is NULL, stopped, or \p events has other
 *          bits; or the negative errno of epoll_ctl() (-EEXIST when a paused
 *          watch is resumed while another watch of the reactor took its fd;
 *          the interest is then unchanged).
 *  Reactor thread only.
 *  \param w the watch.
 *  \param events the new interest: DF_READABLE, DF_WRITABLE, both, or 0 to pause. */
DF_EXTERN int df_watch_update(df_watch *w, unsigned events);

/*! \brief Stops \p w and frees it. Safe from inside its own callback and from
 *  another watch's callback in the same round: a stopped watch never gets an
 *  event after this call, even one already collected in the round. NULL is a
 *  no-op. Reactor thread only.
 *  Restrictions: \p w must not be used after this call.
 *  \param w the watch; NULL is a no-op. */
DF_EXTERN void df_watch_stop(df_watch *w);

/* ---------------------------------------------------------------- threads */

/*! A function run on the reactor thread for another thread:
 *  df_call_from_thread() and df_async_new(). */
typedef void (*df_call_fn)(void *arg);

/*! \brief Queues \p fn(\p arg) to run on the reactor thread, in the thread
 *  calls phase of a later round (Twisted's callFromThread). Calls from one
 *  thread run in the order they were made. Wakes the reactor through the
 *  self-pipe, writing a byte only when no wake-up is already pending.
 *  \param arg borrowed; handed to \p fn.
 *  \return 0; DF_EINVAL when \p r or \p fn is NULL; DF_ENOMEM (nothing was
 *          queued and \p fn will not run).
 *  Thread-safe, from any thread including the reactor's. \p r must be alive
 *  when the call starts and until \p fn has run: df_reactor_free() reports
 *  DF_EBUSY while the call is queued, and waits for this function to return
 *  if \p fn ran before it did.
 *  \param r the reactor.
 *  \param fn called on the reactor thread. */
DF_EXTERN int df_call_from_thread(df_reactor *r, df_call_fn fn, void *arg);

/*! \brief Makes a coalescing wake-up handle (like uv_async_t): each
 *  df_async_send() makes \p fn(\p arg) run once in the thread calls phase of a
 *  later round; several sends before it runs give one call. No allocation
 *  per send.
 *  \param out receives the handle (it makes df_reactor_free() busy until
 *         df_async_free()); NULL on error. Must not be NULL.
 *  \param arg borrowed; must outlive the handle.
 *  \return 0; DF_EINVAL (NULL \p out, \p r or \p fn); DF_ENOMEM.
 *  Reactor thread only.
 *  \param r the reactor (borrowed); free the handle before it.
 *  \param fn called on the reactor thread after a send. */
DF_EXTERN int df_async_new(df_async **out, df_reactor *r, df_call_fn fn,
                           void *arg);

/*! \brief Asks for the handle's function to run on the reactor thread.
 *  When a wake-up for \p a is already pending this is a memory fence and
 *  one atomic load: no write, no system call.
 *  \return 1 when this call wrote the wake-up (a byte into the self-pipe;
 *          a full pipe counts, a wake-up is in it already); 0 when one was
 *          already pending (coalesced); DF_EINVAL when \p a is NULL.
 *  Thread-safe, from any thread. Producers publish their data before the
 *  send, under a lock that the function also takes or in atomic variables
 *  that it reads: the function then sees everything published before a
 *  send, in the run that the send caused or rode on.
 *  \param a the handle. */
DF_EXTERN int df_async_send(df_async *a);

/*! \brief Frees the handle; a pending call is dropped. Safe inside the
 *  handle's own function. NULL is a no-op. Reactor thread only.
 *  A send that has set the pending flag but not returned yet (its wake-up
 *  may be the one that runs the function freeing \p a) is waited for.
 *  Restrictions: any other send on \p a must have returned before this call
 *  starts, and none may start after it (stop or join the producers
 *  first).
 *  \param a the handle; NULL is a no-op. */
DF_EXTERN void df_async_free(df_async *a);

/* ---------------------------------------------------------------- Deferreds */

/*! \brief S29 (deferLater): a Deferred that fires with a borrowed NULL value
 *  after \p seconds. Cancelling it cancels the timer and fails it with
 *  DF_CANCELLED. The timer holds a reference to the Deferred until it fired
 *  or was cancelled, so callbacks still run if the caller drops its
 *  reference.
 *  \return the caller's reference; a Deferred already failed with
 *          DF_INVALID_ARGUMENT naming the argument when \p r is NULL or
 *          \p seconds is negative or not a number; NULL when memory ran out.
 *  Reactor thread only.
 *  \param r the reactor whose clock times it.
 *  \param seconds the delay, at least 0. */
DF_EXTERN df_deferred *df_sleep(df_reactor *r, double seconds);

/*! \brief S29 (Twisted's addTimeout): if \p d has not fired \p seconds from
 *  now, cancel it; a DF_CANCELLED failure that this cancel produces becomes a
 *  DF_TIMEOUT failure (code: the timeout in milliseconds, message naming the
 *  timeout). Appends two steps to \p d now: the converter (it acts only if the
 *  timer fired: a DF_CANCELLED failure becomes DF_TIMEOUT, any other result
 *  passes unchanged), then the disarmer, which cancels the timer when the
 *  chain reaches it (the Deferred fired, failed, was cancelled by hand, or had
 *  fired already). Callbacks added before see the raw DF_CANCELLED; callbacks
 *  added after see DF_TIMEOUT (R11). While armed, the timer holds a
 *  reference to \p d, so \p d cannot be freed under it.
 *  \param d borrowed (the caller keeps its reference).
 *  \return \p d; NULL when \p d or \p r is NULL, \p seconds is negative or not
 *          a number, or memory ran out (then no timer is armed and \p d
 *          behaves as before: at most a step that passes every result
 *          through was added). Reactor thread only.
 *  \param r the reactor whose clock times it.
 *  \param seconds the delay, at least 0. */
DF_EXTERN df_deferred *df_add_timeout(df_deferred *d, df_reactor *r,
                                      double seconds);

/*! \brief What df_add_timeout_full() calls when the timer fired (Twisted's
 *  onTimeoutCancel(result, timeout)).
 *  \param result the result that reached the converter step, owned by the
 *         function: a DF_CANCELLED failure, another failure, or a value after
 *         a canceller or an earlier errback recovered.
 *  \param seconds the timeout as given to df_add_timeout_full().
 *  \param arg the argument given to df_add_timeout_full(), borrowed.
 *  \return what replaces \p result in the chain (returning \p result
 *          passes it on). Called on the reactor thread. */
typedef df_result (*df_timeout_cancel_fn)(df_result result, double seconds,
                                          void *arg);

/*! \brief df_add_timeout() with a custom conversion (Twisted's
 *  addTimeout(timeout, clock, onTimeoutCancel)): \p on_timeout_cancel is
 *  called only if the timer fired, with whatever result reaches the
 *  converter step and the timeout in seconds, as Twisted passes them; what
 *  it returns replaces the result. It is not called when \p d fired, or was
 *  cancelled by hand, before the deadline.
 *  \param on_timeout_cancel NULL gives the default conversion of
 *         df_add_timeout().
 *  \param arg borrowed; must stay valid until \p d's chain passed the
 *         converter step or \p d is freed.
 *  \return as df_add_timeout(). Reactor thread only.
 *  \param d the Deferred to time out (borrowed).
 *  \param r the reactor whose clock times it.
 *  \param seconds the delay, at least 0. */
DF_EXTERN df_deferred *
df_add_timeout_full(df_deferred *d, df_reactor *r, double seconds,
                    df_timeout_cancel_fn on_timeout_cancel, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_REACTOR_H */
