/* What the reactor needs from the platform, behind one small interface:
 * - the poller and the clock (reactor_epoll.c: epoll, timerfd, CLOCK_MONOTONIC);
 * - the wake-up channel (wakeup.c: a self-pipe, coalescing df_async handles
 *   and the queue of df_call_from_thread()).
 * reactor.c uses nothing else that is platform specific. Not installed.
 */
#ifndef DF_BACKEND_H
#define DF_BACKEND_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "deferred/reactor.h"
#include "internal.h"
#include "queue.h"

/* ---------------------------------------------------------------- clock */

/* The monotonic clock in nanoseconds. */
DF__HIDDEN uint64_t df__clock_now_ns(void);

/* ---------------------------------------------------------------- poller */

/* One ready descriptor: the pointer registered with it and DF_READABLE,
 * DF_WRITABLE, DF_HANGUP, DF_IO_ERROR bits. */
typedef struct df__poll_event {
  void *data;
  unsigned events;
} df__poll_event;

/* A close-on-exec poller: its fd, or -errno. */
DF__HIDDEN int df__poller_open(void);
/* Level-triggered interest in \p events (DF_READABLE/DF_WRITABLE bits) on
 * \p fd; \p data comes back with each event. 0 or -errno. */
DF__HIDDEN int df__poller_add(int poll_fd, int fd, unsigned events, void *data);
DF__HIDDEN int df__poller_modify(int poll_fd, int fd, unsigned events,
                                 void *data);
/* Stops watching \p fd; errors (the fd was closed already) are ignored. */
DF__HIDDEN void df__poller_remove(int poll_fd, int fd);
/* Waits up to \p timeout_ms (-1: no limit) and fills at most \p max events.
 * \return the number of events (0 on timeout or EINTR), or -errno. */
DF__HIDDEN int df__poller_wait(int poll_fd, df__poll_event *out, int max,
                               int timeout_ms);

/* A close-on-exec, non-blocking one-shot timer fd on the monotonic clock:
 * its fd, or -errno. */
DF__HIDDEN int df__timerfd_open(void);
/* Arms \p timer_fd to expire at the absolute monotonic time \p deadline_ns
 * (0: disarm). Re-arming clears an expiry not yet read. 0 or -errno. */
DF__HIDDEN int df__timerfd_arm(int timer_fd, uint64_t deadline_ns);
/* Reads an expiry so the fd stops being readable. */
DF__HIDDEN void df__timerfd_drain(int timer_fd);

/* ---------------------------------------------------------------- wake-up */

typedef struct df__wakeup df__wakeup;

/* A coalescing wake-up handle. \c pending holds a flag in bit 0 (a wake-up is
 * pending: its byte is in the pipe or about to be) and, in the bits above, the
 * number of senders that may still touch the handle (between setting the
 * flag and finishing their write; for the internal handle, a
 * df_call_from_thread() or df_reactor_stop() from its publication on), so
 * df_async_free() and df__wakeup_close() can wait for them. */
struct df_async {
  df__queue node; /* in df__wakeup.asyncs; reactor thread only */
  atomic_uint pending;
  df__wakeup *wakeup;
  df_call_fn fn;
  void *arg;
};

/* A queued df_call_from_thread(). */
typedef struct df__call df__call;

struct df__wakeup {
  int read_fd;
  int write_fd;
  df__queue asyncs;            /* every handle, the internal one included */
  size_t user_asyncs;          /* handles made by df_async_new() */
  _Atomic(df__call *) calls;   /* pushed by any thread, newest first */
  struct df_async calls_async; /* internal: runs the calls; never "live" */
};

/* Opens the self-pipe. 0 or -errno. */
DF__HIDDEN int df__wakeup_init(df__wakeup *w);
/* Closes the pipe. The caller checked df__wakeup_busy() first. */
DF__HIDDEN void df__wakeup_close(df__wakeup *w);
/* Waits for the threads still inside df_call_from_thread() or
 * df_reactor_stop(), then says whether user handles exist or calls are
 * queued. */
DF__HIDDEN bool df__wakeup_busy(df__wakeup *w);
/* The end of the pipe that becomes readable on a wake-up. */
DF__HIDDEN int df__wakeup_fd(const df__wakeup *w);
/* Thread calls phase: reads the pipe empty, then, for each handle whose
 * pending flag it clears, runs its function; the internal handle runs the
 * calls queued so far. Work queued meanwhile waits for the next wake-up. */
DF__HIDDEN void df__wakeup_dispatch(df__wakeup *w);
/* Sets *\p flag (a request the reactor reads after a wake-up), then wakes
 * the reactor (df_reactor_stop()). Thread-safe; counted as a sender. */
DF__HIDDEN void df__wakeup_poke(df__wakeup *w, atomic_bool *flag);

/* reactor.c: the reactor's wake-up channel. */
DF__HIDDEN df__wakeup *df__reactor_wakeup(df_reactor *r);

#endif /* DF_BACKEND_H */
