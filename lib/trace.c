/* Recording a timeline: the ring, its writers and the trace's life
 * (deferred/trace.h). The file format is trace_json.c's.
 *
 * The ring. A writer reserves an index with one fetch-add on `head`; the
 * slot is index & mask. A slot is written under its own try-lock (`busy`):
 * when a writer a whole ring ahead finds it still taken, its event is
 * dropped rather than waited for, so recording never blocks. A slot holds
 * the index it was written for (`seq` = index + 1); when the trace stops,
 * the slots of the last `capacity` indices whose `seq` matches are the
 * file, and every other reserved index is counted as dropped.
 *
 * Stopping. Writers announce themselves in the hook's `writers` before they
 * look at the trace pointer; df_trace_stop() clears the pointer, then waits
 * for `writers` to reach zero (both sides sequentially consistent, so one
 * of them sees the other). After that nobody touches the ring: it is read
 * and freed without locks. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "deferred/trace.h"
#include "trace.h"

#define DF__TRACE_MAX_CAPACITY ((size_t)1 << 30)

typedef struct df__trace_slot {
  atomic_bool busy;
  uint64_t seq; /* index + 1 of the event here; 0: never written */
  df__trace_event event;
} df__trace_slot;

struct df__trace {
  _Alignas(64) atomic_uint_fast64_t head; /* indices reserved */
  atomic_uint_fast64_t skipped;           /* slot busy: dropped at once */
  _Alignas(64) size_t mask;
  uint64_t t0;
  uint32_t reactor_tid;
  FILE *file;
  df__trace_slot *slots;
  void *block; /* what df_malloc() returned (alignment) */
};

static atomic_uint_fast64_t next_job_id = 1;

static _Thread_local uint32_t thread_id;

static uint32_t current_tid(void) {
  if (thread_id == 0)
    thread_id = (uint32_t)syscall(SYS_gettid);
  return thread_id;
}

uint64_t df__trace_clock(void) { return df__clock_now_ns(); }

uint64_t df__trace_new_id(void) {
  return atomic_fetch_add_explicit(&next_job_id, 1, memory_order_relaxed);
}

/* ---------------------------------------------------------------- writers */

static void put(df__trace *t, const df__trace_event *e) {
  uint64_t index = atomic_fetch_add_explicit(&t->head, 1, memory_order_relaxed);
  df__trace_slot *slot = &t->slots[index & t->mask];
  if (atomic_exchange_explicit(&slot->busy, true, memory_order_acquire)) {
    atomic_fetch_add_explicit(&t->skipped, 1, memory_order_relaxed);
    return;
  }
  slot->event = *e;
  slot->seq = index + 1;
  atomic_store_explicit(&slot->busy, false, memory_order_release);
}

void df__trace_record(df__trace_hook *h, df__trace_event *e) {
  atomic_fetch_add_explicit(&h->writers, 1, memory_order_seq_cst);
  df__trace *t = atomic_load_explicit(&h->trace, memory_order_seq_cst);
  if (t != NULL) {
    e->tid = current_tid();
    put(t, e);
  }
  /* release: df_trace_stop() reads the slot after it sees zero */
  atomic_fetch_sub_explicit(&h->writers, 1, memory_order_release);
}

void df__trace_span(df__trace_hook *h, int kind, uint64_t ts, uint64_t id,
                    uint64_t arg) {
  uint64_t now = df__clock_now_ns();
  df__trace_event e = {.ts = ts,
                       .dur = now > ts ? now - ts : 0,
                       .id = id,
                       .arg = arg,
                       .kind = (uint8_t)kind};
  df__trace_record(h, &e);
}

void df__trace_dns_record(df_reactor *r, int kind, const void *request,
                          const char *host, int status) {
  df__trace_event e = {.ts = df__clock_now_ns(),
                       .id = (uint64_t)(uintptr_t)request,
                       .arg = (uint64_t)(int64_t)status,
                       .kind = (uint8_t)kind};
  if (host != NULL) {
    size_t len = strnlen(host, sizeof e.label - 1);
    memcpy(e.label, host, len);
    e.label[len] = '\0';
  }
  df__trace_record(df__trace_hook_of(r), &e);
}

/* ---------------------------------------------------------------- life */

static size_t ring_size(size_t wanted) {
  size_t n = 2;
  while (n < wanted)
    n <<= 1;
  return n;
}

static df__trace *trace_new(size_t capacity) {
  df__trace *t;
  void *block = df__malloc(sizeof *t + _Alignof(df__trace));
  if (block == NULL)
    return NULL;
  t = (df__trace *)(((uintptr_t)block + _Alignof(df__trace) - 1) &
                    ~(uintptr_t)(_Alignof(df__trace) - 1));
  memset(t, 0, sizeof *t);
  t->block = block;
  t->slots = df__calloc(capacity, sizeof *t->slots);
  if (t->slots == NULL) {
    df__free(block);
    return NULL;
  }
  for (size_t i = 0; i < capacity; i++)
    atomic_init(&t->slots[i].busy, false);
  t->mask = capacity - 1;
  atomic_init(&t->head, 0);
  atomic_init(&t->skipped, 0);
  return t;
}

static void trace_free(df__trace *t) {
  df__free(t->slots);
  df__free(t->block);
}

int df_trace_start_opts(df_reactor *r, const char *path,
                        const df_trace_options *opts) {
  if (r == NULL || path == NULL || !df_reactor_in_thread(r))
    return DF_EINVAL;
  size_t wanted = opts != NULL && opts->capacity != 0
                      ? opts->capacity
                      : DF_TRACE_DEFAULT_CAPACITY;
  if (wanted > DF__TRACE_MAX_CAPACITY)
    return DF_EINVAL;
  df__trace_hook *h = df__trace_hook_of(r);
  if (atomic_load_explicit(&h->trace, memory_order_relaxed) != NULL)
    return DF_EBUSY;
  df__trace *t = trace_new(ring_size(wanted));
  if (t == NULL)
    return DF_ENOMEM;
  t->file = fopen(path, "we");
  if (t->file == NULL) {
    int rc = -errno;
    trace_free(t);
    return rc;
  }
  t->reactor_tid = current_tid();
  t->t0 = df__clock_now_ns();
  h->last_dropped = 0;
  h->last_recorded = 0;
  atomic_store_explicit(&h->trace, t, memory_order_release);
  return 0;
}

int df_trace_start(df_reactor *r, const char *path) {
  return df_trace_start_opts(r, path, NULL);
}

/* The events the file holds, oldest first, copied into \p out (room for
 * the capacity); returns how many. */
static size_t collect(const df__trace *t, df__trace_event *out) {
  uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
  uint64_t capacity = (uint64_t)t->mask + 1;
  uint64_t first = head > capacity ? head - capacity : 0;
  size_t n = 0;
  for (uint64_t i = first; i < head; i++) {
    const df__trace_slot *slot = &t->slots[i & t->mask];
    if (slot->seq == i + 1)
      out[n++] = slot->event;
  }
  return n;
}

static int write_file(df__trace *t, df__trace_hook *h) {
  df__trace_event *events = df__malloc(((size_t)t->mask + 1) * sizeof *events);
  int rc = DF_ENOMEM;
  if (events != NULL) {
    size_t n = collect(t, events);
    df__trace_summary s = {
        .t0 = t->t0,
        .reactor_tid = t->reactor_tid,
        .recorded = atomic_load_explicit(&t->head, memory_order_relaxed),
        .capacity = (uint64_t)t->mask + 1,
    };
    s.dropped = s.recorded - n;
    h->last_recorded = s.recorded;
    h->last_dropped = s.dropped;
    rc = df__trace_write_json(t->file, events, n, &s);
    df__free(events);
  }
  if (fclose(t->file) != 0 && rc == 0)
    rc = -errno;
  return rc;
}

static int stop(df__trace_hook *h) {
  df__trace *t = atomic_load_explicit(&h->trace, memory_order_relaxed);
  if (t == NULL)
    return DF_EINVAL;
  atomic_store_explicit(&h->trace, NULL, memory_order_seq_cst);
  /* A writer holds on for a few instructions: yield rather than sleep. */
  while (atomic_load_explicit(&h->writers, memory_order_seq_cst) != 0)
    sched_yield();
  atomic_thread_fence(memory_order_acquire);
  int rc = write_file(t, h);
  trace_free(t);
  return rc;
}

int df_trace_stop(df_reactor *r) {
  if (r == NULL || !df_reactor_in_thread(r))
    return DF_EINVAL;
  return stop(df__trace_hook_of(r));
}

/* ---------------------------------------------------------------- queries */

uint64_t df_trace_dropped(const df_reactor *r) {
  if (r == NULL)
    return 0;
  df__trace_hook *h = df__trace_hook_of((df_reactor *)r);
  df__trace *t = atomic_load_explicit(&h->trace, memory_order_relaxed);
  if (t == NULL)
    return h->last_dropped;
  uint64_t head = atomic_load_explicit(&t->head, memory_order_relaxed);
  uint64_t capacity = (uint64_t)t->mask + 1;
  return (head > capacity ? head - capacity : 0) +
         atomic_load_explicit(&t->skipped, memory_order_relaxed);
}

uint64_t df_trace_recorded(const df_reactor *r) {
  if (r == NULL)
    return 0;
  df__trace_hook *h = df__trace_hook_of((df_reactor *)r);
  df__trace *t = atomic_load_explicit(&h->trace, memory_order_relaxed);
  if (t == NULL)
    return h->last_recorded;
  return atomic_load_explicit(&t->head, memory_order_relaxed);
}

/* ---------------------------------------------------------------- environment */

/* DF_TRACE=path traces every reactor of the process; the first writes
 * `path`, later ones `path.2`, `path.3`... DF_TRACE_EVENTS sizes the ring. */
void df__trace_from_environment(df_reactor *r) {
  static atomic_uint reactors_traced;
  const char *path = getenv("DF_TRACE");
  if (path == NULL || path[0] == '\0')
    return;
  df_trace_options opts = {0};
  const char *events = getenv("DF_TRACE_EVENTS");
  if (events != NULL)
    opts.capacity = (size_t)strtoull(events, NULL, 10);
  unsigned nth =
      atomic_fetch_add_explicit(&reactors_traced, 1, memory_order_relaxed) + 1;
  char *numbered = NULL;
  if (nth > 1) {
    size_t len = strlen(path) + 16;
    numbered = df__malloc(len);
    if (numbered == NULL)
      return;
    snprintf(numbered, len, "%s.%u", path, nth);
  }
  if (df_trace_start_opts(r, numbered != NULL ? numbered : path, &opts) != 0)
    fprintf(stderr, "deferred: DF_TRACE: cannot trace into %s\n",
            numbered != NULL ? numbered : path);
  df__free(numbered);
}

void df__trace_at_free(df_reactor *r) {
  df__trace_hook *h = df__trace_hook_of(r);
  if (atomic_load_explicit(&h->trace, memory_order_relaxed) == NULL)
    return;
  int rc = stop(h);
  if (rc != 0)
    fprintf(stderr, "deferred: writing the trace failed: %s\n",
            df_strerror(rc));
}
