/*! \file deferred/trace.h
 *  \brief A timeline of what a reactor, its pools and its resolvers did,
 *  written as Chrome trace event JSON (Perfetto, chrome://tracing).
 *
 *  While a trace runs, the library records:
 *  - for each pool job: its submission (reactor thread), its run (on the
 *    worker that ran it, from start to finish) and the firing of its
 *    Deferred (reactor thread, for as long as the callbacks ran);
 *  - each reactor round and its phases (io, thread calls, timers), with
 *    how long each took and how long the round waited before it;
 *  - each DNS lookup of a df_resolver, from sent to answered.
 *
 *  The file has one track (tid) per worker thread and one for the reactor
 *  thread, each named by a thread_name metadata event; jobs are duration
 *  events ("X"), the way from submission to start and from finish to
 *  callbacks are flow arrows ("s"/"f" pairs with one id), DNS lookups are
 *  async spans ("b"/"e"). Timestamps are microseconds since
 *  df_trace_start().
 *
 *  Memory is bounded: events go into a ring of a fixed number of slots and
 *  the oldest are overwritten once it is full. How many were lost is in
 *  the file ("otherData": "dropped_events") and in df_trace_dropped().
 *
 *  A program not written for tracing is traced by setting the environment
 *  variable DF_TRACE to a file name: every df_reactor_new() then starts a
 *  trace into that file (DF_TRACE_EVENTS sets the ring's size), and
 *  df_reactor_free() writes it. With several reactors in one process, the
 *  second and later ones write to the name followed by ".2", ".3", ...
 *
 *  Costs. Off, each place that would record reads one pointer and skips.
 *  On, an event is a clock read and a few atomic operations, on the thread
 *  that records it; the file is written by df_trace_stop(), on the reactor
 *  thread, never while recording.
 */
#ifndef DEFERRED_TRACE_H
#define DEFERRED_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "reactor.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! Slots of the ring when df_trace_options.capacity is 0 (about 5 MiB). */
#define DF_TRACE_DEFAULT_CAPACITY 65536u

/*! Options of df_trace_start_opts(). Zero-initialise, then set what you
 *  need. */
typedef struct df_trace_options {
  /*! Events the ring holds; rounded up to a power of two, at least 2.
   *  0: DF_TRACE_DEFAULT_CAPACITY. */
  size_t capacity;
} df_trace_options;

/*! Starts recording a timeline of \p r into a file named \p path, written
 *  when df_trace_stop() or df_reactor_free() is called. The file is opened
 *  (created or truncated) now, so a path that cannot be written is
 *  reported here rather than at the end.
 *
 *  Reactor thread only.
 *  \param r the reactor whose rounds, pools and resolvers are recorded.
 *  \param path the file to write; copied, the caller keeps its string.
 *  \return 0; DF_EINVAL if \p r or \p path is NULL or this is not the
 *          reactor thread; DF_EBUSY if a trace of \p r is running;
 *          DF_ENOMEM; or -errno from opening \p path. */
DF_EXTERN int df_trace_start(df_reactor *r, const char *path);

/*! df_trace_start() with options.
 *  \param r the reactor to trace (reactor thread only).
 *  \param path the file to write; copied.
 *  \param opts the ring's size; NULL: the defaults.
 *  \return as df_trace_start(); DF_EINVAL also for a capacity above
 *          2^30. */
DF_EXTERN int df_trace_start_opts(df_reactor *r, const char *path,
                                  const df_trace_options *opts);

/*! Stops the trace of \p r and writes its file. Events that workers are
 *  recording at this moment are waited for (a few instructions each);
 *  events that start after it are not recorded. Jobs whose events fell on
 *  both sides of the start or the stop appear with the parts that were
 *  recorded, without their flow arrows.
 *
 *  Reactor thread only. Frees the ring whether or not writing succeeded.
 *  \param r the traced reactor.
 *  \return 0; DF_ENOMEM when memory to put the file together ran out (the
 *          file is then incomplete); DF_EINVAL if \p r is NULL, this is not
 *          the reactor thread or no trace of \p r runs; or -errno from
 *          writing the file. */
DF_EXTERN int df_trace_stop(df_reactor *r);

/*! Events lost to the ring's bound. While a trace runs: at most this many
 *  were overwritten so far or skipped because their slot was being written
 *  (a skip the ring later overwrote anyway counts twice until the stop).
 *  After df_trace_stop(): what the written file left out, the number in
 *  its "dropped_events". 0 for a reactor never traced, and for NULL.
 *
 *  Reactor thread only.
 *  \param r the reactor, or NULL.
 *  \return the number of events lost. */
DF_EXTERN uint64_t df_trace_dropped(const df_reactor *r);

/*! Events recorded by the running trace of \p r, dropped ones included;
 *  after df_trace_stop(), the total of the trace written last. 0 for NULL.
 *
 *  Reactor thread only.
 *  \param r the reactor, or NULL.
 *  \return the number of events recorded. */
DF_EXTERN uint64_t df_trace_recorded(const df_reactor *r);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_TRACE_H */
