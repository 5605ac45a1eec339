/* What the reactor, the pool and the resolver call to record a timeline
 * (deferred/trace.h). Not installed: the layers above the core (pool/,
 * dns/, remote/) include it from the source tree; the functions are
 * exported from the core so that their shared libraries can call them.
 *
 * Each reactor embeds one df__trace_hook. A layer keeps a pointer to it
 * and asks df__trace_on() before it records: off, that is one load and a
 * branch taken the same way every time. */
#ifndef DF_TRACE_INTERNAL_H
#define DF_TRACE_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "deferred/error.h"
#include "deferred/reactor.h"
#include "internal.h"

typedef struct df__trace df__trace;

/* The reactor's end of a trace. `trace` is NULL while none runs;
 * `writers` counts the threads between their look at `trace` and the end
 * of their event, so that df_trace_stop() can wait for them before it
 * reads and frees the ring. The last two are the reactor thread's: what
 * the trace written last dropped and recorded. */
typedef struct df__trace_hook {
  _Atomic(df__trace *) trace;
  atomic_uint writers;
  uint64_t last_dropped;
  uint64_t last_recorded;
} df__trace_hook;

enum df__trace_kind {
  DF__TRACE_ROUND = 1,  /* ts..ts+dur; arg: ns waited before the round */
  DF__TRACE_IO,         /* arg: ready descriptors */
  DF__TRACE_CALLS,      /* thread calls and df_async handles */
  DF__TRACE_TIMERS,     /* arg: timers run */
  DF__TRACE_JOB_SUBMIT, /* id: job; arg: df_job_priority */
  DF__TRACE_JOB_RUN,    /* id: job; on the worker, start..finish */
  DF__TRACE_JOB_FIRE,   /* id: job; the Deferred's callbacks */
  DF__TRACE_DNS_SENT,   /* id: the request; label: the host */
  DF__TRACE_DNS_ANSWER, /* id: the request; arg: the c-ares status */
  DF__TRACE_KINDS
};

/* Bytes of a host name an event keeps (the rest is cut). */
#define DF__TRACE_LABEL 40

typedef struct df__trace_event {
  uint64_t ts;  /* ns on the monotonic clock (df__trace_clock()) */
  uint64_t dur; /* ns */
  uint64_t id;
  uint64_t arg;
  uint32_t tid; /* set by df__trace_record(): the recording thread */
  uint8_t kind; /* enum df__trace_kind */
  char label[DF__TRACE_LABEL];
} df__trace_event;

/* The hook of \p r; the same address for the reactor's whole life. */
DF_EXTERN df__trace_hook *df__trace_hook_of(df_reactor *r);

/* True while a trace runs. Any thread; a hint only, df__trace_record()
 * decides again. */
static inline bool df__trace_on(df__trace_hook *h) {
  return __builtin_expect(
      atomic_load_explicit(&h->trace, memory_order_relaxed) != NULL, 0);
}

/* The clock of every event, ns. Any thread. */
DF_EXTERN uint64_t df__trace_clock(void);

/* A new job id, never 0, unique in the process. Any thread. */
DF_EXTERN uint64_t df__trace_new_id(void);

/* Records \p e (its tid is filled in), or nothing if no trace runs any
 * more. Any thread; never blocks. */
DF_EXTERN void df__trace_record(df__trace_hook *h, df__trace_event *e);

/* Records a span that began at \p ts and ends now. */
DF_EXTERN void df__trace_span(df__trace_hook *h, int kind, uint64_t ts,
                              uint64_t id, uint64_t arg);

/* A DNS lookup of \p host was sent for \p request, which identifies it
 * until it is answered (dns/resolver.c). Reactor thread. */
DF_EXTERN void df__trace_dns_record(df_reactor *r, int kind,
                                    const void *request, const char *host,
                                    int status);
static inline void df__trace_dns_sent(df_reactor *r, const void *request,
                                      const char *host) {
  if (df__trace_on(df__trace_hook_of(r)))
    df__trace_dns_record(r, DF__TRACE_DNS_SENT, request, host, 0);
}
/* The lookup of \p request was answered with the c-ares \p status. */
static inline void df__trace_dns_answered(df_reactor *r, const void *request,
                                          int status) {
  if (df__trace_on(df__trace_hook_of(r)))
    df__trace_dns_record(r, DF__TRACE_DNS_ANSWER, request, NULL, status);
}

/* reactor.c: a new reactor honours DF_TRACE; df_reactor_free() writes a
 * trace still running. Reactor thread. */
DF__HIDDEN void df__trace_from_environment(df_reactor *r);
DF__HIDDEN void df__trace_at_free(df_reactor *r);

/* trace_json.c: writes \p n events, oldest first, as a Chrome trace event
 * JSON object to \p f. \p t0 is time 0 of the file. 0 or -errno. */
typedef struct df__trace_summary {
  uint64_t t0;
  uint32_t reactor_tid;
  uint64_t recorded;
  uint64_t dropped;
  uint64_t capacity;
} df__trace_summary;
DF__HIDDEN int df__trace_write_json(FILE *f, const df__trace_event *events,
                                    size_t n, const df__trace_summary *s);

#endif /* DF_TRACE_INTERNAL_H */
