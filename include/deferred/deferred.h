/*! \file deferred/deferred.h
 *  \brief df_deferred: a result that will exist later, and the chain of
 *  callbacks and errbacks that runs on it (Twisted's Deferred).
 *
 *  Semantics are those of Twisted 22.4's Deferred (rules S01-S28 of the
 *  specification), with these deliberate differences:
 *  - A callback that returns the Deferred it is attached to (directly, or by
 *    making a cycle of Deferreds that wait on each other) turns the chain into
 *    a DF_INVALID_ARGUMENT failure instead of hanging (S27).
 *  - df_unpause() without a matching df_pause() returns DF_ENOTPAUSED and
 *    changes nothing (Twisted lets the counter go negative). A Deferred that
 *    waits on another one (S26) is not paused in that sense: df_unpause()
 *    cannot resume it early (Twisted's R4.5 quirk).
 *  - A canceller returns nothing and cannot fail (Twisted lets exceptions out
 *    of cancel()).
 *  - Firing with a Deferred as the value is refused with DF_EINVAL (Twisted
 *    asserts), and the refused reference is dropped.
 *  - A Deferred whose callback is running has no result to take: a callback
 *    of another Deferred that returns it waits for it (Twisted takes the
 *    value the running callback was given, R5.12; in C that value is owned
 *    by the running callback).
 *  - A failure that arrives while a Deferred is paused is reported if the
 *    Deferred is released that way (Twisted never reports it, R12.4).
 *  - df_chain() (chainDeferred) runs iteratively like implicit chaining, so
 *    long explicit chains cannot overflow the stack (Twisted recurses, R6.3).
 *  - Reference counting has no cycle collector: a Deferred that waits on one
 *    that never fires, or a list whose member never fires, stays alive until
 *    that one is fired or cancelled; one that waits on a paused one stays
 *    alive until that one is unpaused (a cancel cannot end that wait once
 *    the paused one has fired). Twisted's garbage collector would free and
 *    report such cycles.
 *
 *  How every call of the library reports failure (core, reactor, pool, dns,
 *  remote, trace), the one convention:
 *  | kind of call                         | returns                          | on failure |
 *  |--------------------------------------|----------------------------------|------------|
 *  | does something                       | `int`: 0, or a documented value >= 0 (df_async_send(): 1 when it wrote the wake-up; df_reactor_fd(), df_connection_detach(): a descriptor) | a negative DF_E code (df_strerror() says it) |
 *  | makes an object: reactor, pool, resolver, remote caller and worker, timer, watch, async handle | `int df_x_new(T **out, ...)`; likewise df_call_later(), df_watch_fd(), df_async_new() | a negative code, `*out` set to NULL |
 *  | returns a Deferred: submissions, lookups, connects, sleeps, lists, remote calls, df_maybe() | the caller's reference | only through the Deferred, already failed (DF_INVALID_ARGUMENT naming the argument, DF_POOL_FULL, ...); NULL only when memory for that Deferred ran out |
 *  | adds to a Deferred: df_add_*(), df_chain(), df_add_timeout() | the same Deferred, so calls chain | NULL when nothing was added (a NULL or bad argument, no memory); the Deferred is unchanged |
 *  | frees an object with a life: df_reactor_free(), df_pool_free(), df_resolver_free(), df_remote_free(), df_remote_worker_free() | `int` | DF_EBUSY (work left, or called from a callback the object is running), DF_EINVAL (pool, resolver, remote: off the reactor thread; a reactor is freed by the thread that runs it); NULL is a no-op (0) |
 *  | releases a value or a handle: df_unref(), df_failure_unref(), the df_free_fn of every value, df_timer_cancel(), df_watch_stop(), df_async_free() | `void` | cannot fail; NULL is a no-op |
 *  | reads counters                       | `int df_x_stats(x, struct df_x_stats *out)` | DF_EINVAL |
 *  | asks: df_called(), df_reactor_in_thread(), accessors | a `bool` or the value | cannot fail; NULL gives false, 0 or "" |
 *  | formats: df_address_format(), df_failure_describe() | the length the text needs, like snprintf() | - |
 *  Callback types, one per purpose: df_callback_fn (steps), df_canceller_fn,
 *  df_timer_fn (timers), df_call_fn (thread calls and async handles),
 *  df_watch_fn (descriptors), df_work_fn (pool jobs), df_remote_fn (remote
 *  jobs), df_timeout_cancel_fn (df_add_timeout_full()).
 *
 *  Threading: Deferreds are not thread-safe. One thread (normally the
 *  reactor's) creates, fires and releases a given Deferred and its chains.
 *  The global setters (debugging, hooks) are meant for start-up.
 *
 *  Ownership: df_deferred_new() and the other constructors return the
 *  caller's reference; df_unref() drops it. Steps, waiting Deferreds and
 *  lists hold references of their own, so a caller may drop its reference
 *  right after adding callbacks. When the last reference goes, whatever the
 *  chain still holds is freed; an unhandled failure is reported first (S09).
 */
#ifndef DEFERRED_DEFERRED_H
#define DEFERRED_DEFERRED_H

#include <stdbool.h>

#include "result.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! A callback or errback: takes ownership of \p in, returns the next result. */
typedef df_result (*df_callback_fn)(df_result in, void *arg);

/*! A canceller (S15): does its best to stop the underlying operation. It may
 *  fire \p d (that outcome then stands, R7.4); if it does not, df_cancel()
 *  errbacks \p d with DF_CANCELLED. */
typedef void (*df_canceller_fn)(df_deferred *d, void *arg);

/*! A function for df_maybe(). */
typedef df_result (*df_maybe_fn)(void *arg);

/*! Frees the argument of a step added with df_add_callbacks_full(). */
typedef void (*df_arg_free_fn)(void *arg);

/* ---------------------------------------------------------------- life */

/*! \brief Makes an unfired Deferred (use the df_deferred_new() macro).
 *  \param canceller optional (S15); NULL gives the default cancel (S16).
 *  \param arg passed to the canceller; borrowed, must outlive the Deferred's
 *         unfired life.
 *  \return the caller's reference, or NULL when memory ran out.
 *  \param file where the Deferred is made (debug mode), set by the macro.
 *  \param line the line in \p file. */
DF_EXTERN df_deferred *df_deferred_new_at(df_canceller_fn canceller, void *arg,
                                          const char *file, int line);
/*! Makes an unfired Deferred: df_deferred_new_at() with the caller's place. */
#define df_deferred_new(canceller, arg)                                        \
  df_deferred_new_at((canceller), (arg), __FILE__, __LINE__)

/*! \brief Makes an unfired Deferred with \p size bytes of storage for the
 *  caller in the same allocation (use the df_deferred_new_with_storage()
 *  macro): a layer that keeps a record per Deferred (a lookup, a remote
 *  call) then allocates once instead of twice.
 *  \param canceller optional (S15); it receives the storage as its
 *         argument.
 *  \param size bytes of storage, aligned for any object, uninitialised.
 *  \param storage receives the storage (NULL on error). It lives as long as
 *         the Deferred: until its last reference is dropped, so hold one
 *         for as long as the storage is used.
 *  \return the caller's reference, or NULL when memory ran out, \p storage
 *          is NULL or \p size is too large.
 *  \param file where the Deferred is made (debug mode), set by the macro.
 *  \param line the line in \p file. */
DF_EXTERN df_deferred *
df_deferred_new_with_storage_at(df_canceller_fn canceller, size_t size,
                                void **storage, const char *file, int line);
/*! df_deferred_new_with_storage_at() with the caller's place. */
#define df_deferred_new_with_storage(canceller, size, storage)                 \
  df_deferred_new_with_storage_at((canceller), (size), (storage), __FILE__,    \
                                  __LINE__)

/*! \brief Adds a reference. \return \p d (NULL stays NULL).
 *  \param d borrowed; NULL stays NULL. */
DF_EXTERN df_deferred *df_ref(df_deferred *d);

/*! \brief Drops a reference. The last one frees the Deferred: an unhandled
 *  failure is reported first, through the unhandled hook, synchronously inside
 *  this call (S09); then the result and every step not run are freed (step
 *  arguments through their arg_free). NULL is a no-op.
 *  \param d the reference dropped; NULL is a no-op. */
DF_EXTERN void df_unref(df_deferred *d);

/* ---------------------------------------------------------------- steps */

/*! \brief Adds one step, a pair (S08): \p cb runs if the result reaching it is
 *  a value, \p eb if it is a failure; \p eb never sees a failure returned by
 *  \p cb. A NULL side passes the result through (Twisted's errback=None).
 *  Runs at once when \p d has fired and is not paused or waiting (S01).
 *  \return \p d, or NULL when \p d is NULL, both functions are NULL, or
 *          memory ran out (the step was not added).
 *  \param d the Deferred (borrowed).
 *  \param cb the callback, or NULL.
 *  \param cb_arg passed to \p cb; borrowed.
 *  \param eb the errback, or NULL.
 *  \param eb_arg passed to \p eb; borrowed. */
DF_EXTERN df_deferred *df_add_callbacks(df_deferred *d, df_callback_fn cb,
                                        void *cb_arg, df_callback_fn eb,
                                        void *eb_arg);

/*! \brief df_add_callbacks() whose arguments have a destructor: \p arg_free
 *  is called once for \p cb_arg and once for \p eb_arg (once only when they
 *  are the same pointer; never for NULL) after the step ran, or when it is
 *  discarded (the Deferred is freed unfired). It is also called when the step
 *  could not be added (NULL return).
 *  \param d the Deferred (borrowed).
 *  \param cb the callback, or NULL.
 *  \param cb_arg passed to \p cb; owned by the step.
 *  \param eb the errback, or NULL.
 *  \param eb_arg passed to \p eb; owned by the step.
 *  \param arg_free releases the arguments; NULL: they are borrowed.
 *  \return \p d, or NULL (see df_add_callbacks()). */
DF_EXTERN df_deferred *df_add_callbacks_full(df_deferred *d, df_callback_fn cb,
                                             void *cb_arg, df_callback_fn eb,
                                             void *eb_arg,
                                             df_arg_free_fn arg_free);

/*! \brief Adds a callback (a step whose errback passes failures through).
 *  A NULL \p cb adds a step that turns the chain into a DF_INVALID_ARGUMENT
 *  failure when reached, so the misuse is seen rather than lost.
 *  \return \p d, or NULL (see df_add_callbacks()).
 *  \param d the Deferred (borrowed).
 *  \param cb the callback.
 *  \param arg passed to \p cb; borrowed. */
DF_EXTERN df_deferred *df_add_callback(df_deferred *d, df_callback_fn cb,
                                       void *arg);

/*! \brief Adds an errback (a step whose callback passes values through).
 *  NULL \p eb: as for df_add_callback().
 *  \param d the Deferred (borrowed).
 *  \param eb the errback.
 *  \param arg passed to \p eb; borrowed.
 *  \return \p d, or NULL (see df_add_callbacks()). */
DF_EXTERN df_deferred *df_add_errback(df_deferred *d, df_callback_fn eb,
                                      void *arg);

/*! \brief Adds \p fn as both callback and errback of one step.
 *  NULL \p fn: as for df_add_callback().
 *  \param d the Deferred (borrowed).
 *  \param fn the function for both sides.
 *  \param arg passed to \p fn; borrowed.
 *  \return \p d, or NULL (see df_add_callbacks()). */
DF_EXTERN df_deferred *df_add_both(df_deferred *d, df_callback_fn fn,
                                   void *arg);

/*! \brief S07 (Failure.trap), for use inside an errback:
 *  \code
 *  static df_result on_error(df_result in, void *arg) {
 *    DF_TRAP(in, &SPAM_ERROR, &EGG_ERROR); // anything else is passed on
 *    ... handle it; in is still ours ...
 *    df_result_free(in);
 *    return df_ok(NULL, NULL);
 *  }
 *  \endcode
 *  Returns \p in unchanged from the enclosing function (the failure goes on
 *  to the next errback, same type and message) unless its failure is one of
 *  the listed types or a subtype of one; then execution continues. */
#define DF_TRAP(in, ...)                                                       \
  do {                                                                         \
    if (df_failure_check(df_result_failure(in), __VA_ARGS__,                   \
                         (const df_error_type *)0) == 0)                       \
      return (in);                                                             \
  } while (0)

/* ---------------------------------------------------------------- firing */

/*! \brief Fires \p d with \p r: a value runs the callbacks, a failure the
 *  errbacks (S03, R1.9). Use the df_fire()/df_callback()/df_errback()
 *  macros, which record where the fire happened for debug mode.
 *  Takes ownership of \p r even when it refuses it (it is freed then).
 *  \return 0; DF_EALREADY when \p d has fired (S10: the first result stands;
 *          in debug mode a report names where \p d was created and first
 *          fired); DF_EINVAL when \p d is NULL or \p r is a Deferred (\p d
 *          stays unfired). After a cancel without canceller, the first later
 *          fire is swallowed and returns 0 (S17, R7.2).
 *  \param d the Deferred to fire (borrowed).
 *  \param r the result; owned by the call.
 *  \param file where the fire is made (debug mode), set by the macro.
 *  \param line the line in \p file. */
DF_EXTERN int df_fire_at(df_deferred *d, df_result r, const char *file,
                         int line);
/*! df_fire(d, r): fire with a result (see df_fire_at()). */
#define df_fire(d, r) df_fire_at((d), (r), __FILE__, __LINE__)
/*! df_callback(d, value, free): fire with a value (see df_ok()). */
#define df_callback(d, value, free)                                            \
  df_fire_at((d), df_ok((value), (free)), __FILE__, __LINE__)
/*! df_errback(d, failure): fire with a failure, taking the reference. */
#define df_errback(d, failure)                                                 \
  df_fire_at((d), df_fail(failure), __FILE__, __LINE__)

/*! \brief S13: an already-fired Deferred holding \p value.
 *  \return the caller's reference, or NULL when memory ran out (the value
 *          was freed).
 *  \param value the value; owned by the Deferred when \p free is not NULL.
 *  \param free releases \p value; NULL: borrowed. */
DF_EXTERN df_deferred *df_succeed(void *value, df_free_fn free);

/*! \brief S13: an already-failed Deferred; takes the reference to \p f
 *  (NULL gives a DF_INVALID_ARGUMENT failure). \return as df_succeed().
 *  \param f the failure; its reference is taken. */
DF_EXTERN df_deferred *df_fail_now(df_failure *f);

/*! \brief S12 (maybeDeferred): calls \p fn(\p arg) now. A value gives a fired
 *  Deferred, a failure a failed one, a Deferred is returned as it is (the
 *  reference in the result becomes the caller's). NULL \p fn gives a
 *  Deferred failed with DF_INVALID_ARGUMENT.
 *  \param fn the function called now.
 *  \param arg passed to \p fn; borrowed.
 *  \return the caller\'s reference, or NULL when memory ran out. */
DF_EXTERN df_deferred *df_maybe(df_maybe_fn fn, void *arg);

/* ---------------------------------------------------------------- control */

/*! \brief S14-S19: cancels \p d. Never fails, may be called any number of
 *  times, before or after firing.
 *  - Unfired: calls the canceller if any; if \p d is still unfired after it,
 *    errbacks \p d with DF_CANCELLED. Without a canceller, the one later fire
 *    that the operation makes is swallowed (S17).
 *  - Waiting on another Deferred (S26): cancels the innermost one instead
 *    (S19, R7.9).
 *  - Fired: nothing (S18).
 *  NULL is a no-op.
 *  \param d the Deferred (borrowed); NULL is a no-op. */
DF_EXTERN void df_cancel(df_deferred *d);

/*! \brief S28 (chainDeferred): adds a step that fires \p other with the result
 *  reaching it; \p d continues with a borrowed NULL value. Firing \p other
 *  does not fire \p d. If \p other has fired by then, \p d's chain continues
 *  with a DF_ALREADY_CALLED failure (R6.2). Takes a reference to \p other.
 *  \return \p d, or NULL when either is NULL, \p other is \p d, or memory
 *          ran out.
 *  \param d the Deferred whose result is passed on (borrowed).
 *  \param other the Deferred fired with it. */
DF_EXTERN df_deferred *df_chain(df_deferred *d, df_deferred *other);

/*! \brief Pauses \p d: results wait until as many df_unpause() calls as
 *  df_pause() calls were made (R4). \return 0, DF_EINVAL (NULL), or
 *  DF_EBUSY when \p d is already paused 65535 times (nothing changes).
 *  \param d the Deferred (borrowed). */
DF_EXTERN int df_pause(df_deferred *d);

/*! \brief Undoes one df_pause(); the last one runs the waiting steps.
 *  \return 0, DF_EINVAL (NULL) or DF_ENOTPAUSED (no matching pause;
 *          nothing changes).
 *  \param d the Deferred (borrowed). */
DF_EXTERN int df_unpause(df_deferred *d);

/* ---------------------------------------------------------------- state */

/*! True once \p d was fired (callback, errback or cancel). NULL: false.
 *  \param d the Deferred (borrowed), or NULL.
 *  \return whether \p d was fired. */
DF_EXTERN bool df_called(const df_deferred *d);

/*! True while \p d waits on another Deferred (S26). NULL: false.
 *  \param d the Deferred (borrowed), or NULL.
 *  \return whether \p d waits on another Deferred. */
DF_EXTERN bool df_waiting(const df_deferred *d);

/*! \brief Copies the current result of \p d into \p *out as a view: \p d
 *  still owns it, so do not free it (the release function is kept so that
 *  df_result_kind() works on the view). The view is valid until \p d's
 *  chain runs again or \p d is freed.
 *  \return true when \p d has a result to show; false when \p d or \p out
 *          is NULL, \p d has not fired, waits on another Deferred, or one
 *          of its callbacks is running (it owns the result then).
 *  \param d the Deferred (borrowed).
 *  \param out receives the view. */
DF_EXTERN bool df_peek(const df_deferred *d, df_result *out);

/* ---------------------------------------------------------------- debug */

/*! Where a Deferred was created and first fired (debug mode only). */
typedef struct df_debug_info {
  const char *created_file; /*!< NULL when unknown */
  int created_line;         /*!< 0 when unknown */
  const char *fired_file;   /*!< NULL when not fired or unknown */
  int fired_line;           /*!< 0 when not fired or unknown */
} df_debug_info;

/*! \brief Turns debug mode on or off for Deferreds created from now on. On,
 *  each Deferred records where it was created and first fired, and the
 *  AlreadyCalled and unhandled-failure reports name both. Off (the default,
 *  unless the environment has DF_DEBUG=1), nothing is recorded.
 *  \param on true to record, false to stop. Call it before other threads use the library. */
DF_EXTERN void df_set_debugging(bool on);

/*! \brief True while debug mode is on (df_set_debugging() or DF_DEBUG=1).
 *  \return true while debug mode is on. */
DF_EXTERN bool df_get_debugging(void);

/*! Called for a Deferred released with an unhandled failure (S09). \p where
 *  is NULL unless the Deferred was created in debug mode. */
typedef void (*df_unhandled_fn)(const df_failure *f, const df_debug_info *where,
                                void *arg);

/*! \brief Replaces the unhandled-failure report (default: one block on
 *  stderr). NULL restores the default. Called synchronously inside the
 *  df_unref() that frees the Deferred.
 *  \param fn the report, or NULL for the default.
 *  \param arg passed to \p fn; borrowed, must outlive the hook. */
DF_EXTERN void df_set_unhandled_hook(df_unhandled_fn fn, void *arg);

/*! Called, in debug mode, when a fire is refused with DF_EALREADY: \p where
 *  tells where the Deferred was created and first fired, \p file and
 *  \p line where the refused fire was made. */
typedef void (*df_already_called_fn)(const df_debug_info *where,
                                     const char *file, int line, void *arg);

/*! \brief Replaces the AlreadyCalled report (default: one block on stderr,
 *  debug mode only). NULL restores the default.
 *  \param fn the report, or NULL for the default.
 *  \param arg passed to \p fn; borrowed, must outlive the hook. */
DF_EXTERN void df_set_already_called_hook(df_already_called_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_DEFERRED_H */
