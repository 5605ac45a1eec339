/* A recorded timeline as Chrome trace event JSON, the format Perfetto and
 * chrome://tracing open ("JSON Object Format": traceEvents, otherData).
 *
 * Tracks: the reactor thread and each worker thread is a tid of its own,
 * named by thread_name metadata. A job is three duration events (submit
 * and callbacks on the reactor, the run on its worker) joined by two flow
 * arrows: queue (submit's start -> run) and result (run's end ->
 * callbacks). A flow
 * point sits one nanosecond inside the slice it binds to, so that both
 * viewers bind it to that slice ("bp": "e", enclosing slice). A DNS lookup
 * overlaps other lookups, so it is an async span ("b"/"e") of its own.
 * Timestamps are microseconds since the trace started, to the ns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

typedef struct writer {
  FILE *f;
  uint64_t t0;
  int pid;
  bool first;
} writer;

/* Starts the next element of traceEvents. */
static void next(writer *w) {
  fputs(w->first ? "\n" : ",\n", w->f);
  w->first = false;
}

static void put_us(writer *w, uint64_t ts) {
  int64_t ns = (int64_t)(ts - w->t0);
  const char *sign = ns < 0 ? "-" : "";
  uint64_t abs_ns = ns < 0 ? (uint64_t)-ns : (uint64_t)ns;
  fprintf(w->f, "%s%llu.%03u", sign, (unsigned long long)(abs_ns / 1000),
          (unsigned)(abs_ns % 1000));
}

static void put_dur(writer *w, uint64_t dur) {
  fprintf(w->f, "%llu.%03u", (unsigned long long)(dur / 1000),
          (unsigned)(dur % 1000));
}

/* A JSON string of at most \p max bytes of \p s. */
static void put_string(writer *w, const char *s, size_t max) {
  fputc('"', w->f);
  for (size_t i = 0; i < max && s[i] != '\0'; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\')
      fprintf(w->f, "\\%c", c);
    else if (c < 0x20 || c >= 0x7f)
      fprintf(w->f, "\\u%04x", c); /* non-ASCII bytes kept as Latin-1 */
    else
      fputc(c, w->f);
  }
  fputc('"', w->f);
}

/* `"ph":"X"` and the fields every event has, up to its args. */
static void open_event(writer *w, const char *ph, const char *cat, uint32_t tid,
                       uint64_t ts) {
  next(w);
  fprintf(w->f,
          "{\"ph\":\"%s\",\"cat\":\"%s\",\"pid\":%d,\"tid\":%u,\"ts\":", ph,
          cat, w->pid, tid);
  put_us(w, ts);
}

static void put_slice(writer *w, const char *cat, const df__trace_event *e) {
  open_event(w, "X", cat, e->tid, e->ts);
  fputs(",\"dur\":", w->f);
  put_dur(w, e->dur);
}

/* ---------------------------------------------------------------- threads */

typedef struct threads {
  uint32_t *workers; /* tids that ran jobs, in order of first appearance */
  size_t n;
} threads;

static int find_workers(const df__trace_event *ev, size_t n, threads *out) {
  out->workers = NULL;
  out->n = 0;
  size_t cap = 0;
  for (size_t i = 0; i < n; i++) {
    if (ev[i].kind != DF__TRACE_JOB_RUN)
      continue;
    size_t k = 0;
    while (k < out->n && out->workers[k] != ev[i].tid)
      k++;
    if (k < out->n)
      continue;
    if (out->n == cap) {
      cap = cap != 0 ? cap * 2 : 16;
      uint32_t *grown = df__realloc(out->workers, cap * sizeof *grown);
      if (grown == NULL)
        return DF_ENOMEM;
      out->workers = grown;
    }
    out->workers[out->n++] = ev[i].tid;
  }
  return 0;
}

static void put_thread(writer *w, uint32_t tid, const char *name,
                       unsigned sort) {
  next(w);
  fprintf(w->f,
          "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%u,"
          "\"args\":{\"name\":\"%s\"}}",
          w->pid, tid, name);
  next(w);
  fprintf(w->f,
          "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%d,"
          "\"tid\":%u,\"args\":{\"sort_index\":%u}}",
          w->pid, tid, sort);
}

static void put_metadata(writer *w, const df__trace_summary *s,
                         const threads *t) {
  next(w);
  fprintf(w->f,
          "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"tid\":%u,"
          "\"args\":{\"name\":\"deferred\"}}",
          w->pid, s->reactor_tid);
  put_thread(w, s->reactor_tid, "reactor", 0);
  for (size_t k = 0; k < t->n; k++) {
    char name[32];
    snprintf(name, sizeof name, "worker %zu", k + 1);
    put_thread(w, t->workers[k], name, (unsigned)k + 1);
  }
}

/* ---------------------------------------------------------------- rounds */

static void put_round(writer *w, const df__trace_event *e) {
  switch (e->kind) {
  case DF__TRACE_ROUND:
    put_slice(w, "reactor", e);
    fputs(",\"name\":\"round\",\"args\":{\"waited_us\":", w->f);
    put_dur(w, e->arg);
    fputs("}}", w->f);
    break;
  case DF__TRACE_IO:
    put_slice(w, "reactor", e);
    fprintf(w->f, ",\"name\":\"io\",\"args\":{\"ready\":%llu}}",
            (unsigned long long)e->arg);
    break;
  case DF__TRACE_CALLS:
    put_slice(w, "reactor", e);
    fputs(",\"name\":\"thread calls\"}", w->f);
    break;
  case DF__TRACE_TIMERS:
    put_slice(w, "reactor", e);
    fprintf(w->f, ",\"name\":\"timers\",\"args\":{\"timers\":%llu}}",
            (unsigned long long)e->arg);
    break;
  default:
    break;
  }
}

/* ---------------------------------------------------------------- jobs */

static const char *priority_name(uint64_t priority) {
  static const char *names[] = {"normal", "high", "low"};
  return priority < 3 ? names[priority] : "unknown";
}

/* Orders a job's events by job, then submit, run, fire. */
static int by_job(const void *a, const void *b) {
  const df__trace_event *x = *(const df__trace_event *const *)a;
  const df__trace_event *y = *(const df__trace_event *const *)b;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* A point 1 ns inside \p e's start (\p at_end: its end), clamped to it. */
static uint64_t inside(const df__trace_event *e, bool at_end) {
  if (e->dur < 2)
    return e->ts;
  return at_end ? e->ts + e->dur - 1 : e->ts + 1;
}

/* An arrow from \p from (its start, or its end if \p from_end) to the
 * start of \p to. */
static void put_flow(writer *w, const char *name, uint64_t flow_id,
                     const df__trace_event *from, bool from_end,
                     const df__trace_event *to) {
  open_event(w, "s", "job", from->tid, inside(from, from_end));
  fprintf(w->f, ",\"name\":\"%s\",\"id\":%llu}", name,
          (unsigned long long)flow_id);
  open_event(w, "f", "job", to->tid, inside(to, false));
  fprintf(w->f, ",\"bp\":\"e\",\"name\":\"%s\",\"id\":%llu}", name,
          (unsigned long long)flow_id);
}

/* One job: whatever of its three slices were recorded, and the arrows
 * between those that were. */
static void put_job(writer *w, const df__trace_event *submit,
                    const df__trace_event *run, const df__trace_event *fire,
                    const threads *t) {
  uint64_t id = (submit ? submit : run ? run : fire)->id;
  unsigned long long job = (unsigned long long)id;
  if (submit != NULL) {
    put_slice(w, "job", submit);
    fprintf(w->f,
            ",\"name\":\"submit job %llu\",\"args\":{\"job\":%llu,"
            "\"priority\":\"%s\"}}",
            job, job, priority_name(submit->arg));
  }
  if (run != NULL) {
    size_t worker = 0;
    while (worker < t->n && t->workers[worker] != run->tid)
      worker++;
    put_slice(w, "job", run);
    fprintf(w->f,
            ",\"name\":\"job %llu\",\"args\":{\"job\":%llu,"
            "\"worker\":%zu",
            job, job, worker + 1);
    if (submit != NULL) {
      fputs(",\"queued_us\":", w->f);
      put_dur(w, run->ts > submit->ts ? run->ts - submit->ts : 0);
    }
    fputs("}}", w->f);
  }
  if (fire != NULL) {
    put_slice(w, "job", fire);
    fprintf(w->f, ",\"name\":\"callbacks job %llu\",\"args\":{\"job\":%llu}}",
            job, job);
  }
  if (submit != NULL && run != NULL)
    put_flow(w, "queue", id * 2, submit, false, run);
  if (run != NULL && fire != NULL)
    put_flow(w, "result", id * 2 + 1, run, true, fire);
}

static bool is_job(int kind) {
  return kind == DF__TRACE_JOB_SUBMIT || kind == DF__TRACE_JOB_RUN ||
         kind == DF__TRACE_JOB_FIRE;
}

static int put_jobs(writer *w, const df__trace_event *ev, size_t n,
                    const threads *t) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count += is_job(ev[i].kind);
  if (count == 0)
    return 0;
  const df__trace_event **jobs = df__malloc(count * sizeof *jobs);
  if (jobs == NULL)
    return DF_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (is_job(ev[i].kind))
      jobs[k++] = &ev[i];
  qsort(jobs, count, sizeof *jobs, by_job);
  for (size_t i = 0; i < count;) {
    const df__trace_event *part[DF__TRACE_KINDS] = {0};
    uint64_t id = jobs[i]->id;
    for (; i < count && jobs[i]->id == id; i++)
      part[jobs[i]->kind] = jobs[i];
    put_job(w, part[DF__TRACE_JOB_SUBMIT], part[DF__TRACE_JOB_RUN],
            part[DF__TRACE_JOB_FIRE], t);
  }
  df__free(jobs);
  return 0;
}

/* ---------------------------------------------------------------- dns */

/* A request's address is its id, and is reused once it is freed: in time
 * order, each SENT is answered by the next ANSWER of the same id. */
static int by_lookup(const void *a, const void *b) {
  const df__trace_event *x = *(const df__trace_event *const *)a;
  const df__trace_event *y = *(const df__trace_event *const *)b;
  if (x->id != y->id)
    return x->id < y->id ? -1 : 1;
  if (x != y)
    return x < y ? -1 : 1; /* the ring's order: the order recorded */
  return 0;
}

static void put_lookup(writer *w, const df__trace_event *sent,
                       const df__trace_event *answer, uint64_t span) {
  open_event(w, "b", "dns", sent->tid, sent->ts);
  fputs(",\"name\":\"dns lookup\",\"args\":{\"host\":", w->f);
  put_string(w, sent->label, sizeof sent->label);
  fprintf(w->f, "},\"id\":%llu}", (unsigned long long)span);
  open_event(w, "e", "dns", answer->tid, answer->ts);
  fprintf(w->f,
          ",\"name\":\"dns lookup\",\"args\":{\"status\":%llu},\"id\":%llu}",
          (unsigned long long)answer->arg, (unsigned long long)span);
}

static int put_lookups(writer *w, const df__trace_event *ev, size_t n) {
  size_t count = 0;
  for (size_t i = 0; i < n; i++)
    count +=
        ev[i].kind == DF__TRACE_DNS_SENT || ev[i].kind == DF__TRACE_DNS_ANSWER;
  if (count == 0)
    return 0;
  const df__trace_event **dns = df__malloc(count * sizeof *dns);
  if (dns == NULL)
    return DF_ENOMEM;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (ev[i].kind == DF__TRACE_DNS_SENT || ev[i].kind == DF__TRACE_DNS_ANSWER)
      dns[k++] = &ev[i];
  qsort(dns, count, sizeof *dns, by_lookup);
  uint64_t span = 0;
  for (size_t i = 0; i + 1 < count; i++) {
    if (dns[i]->kind == DF__TRACE_DNS_SENT &&
        dns[i + 1]->kind == DF__TRACE_DNS_ANSWER &&
        dns[i]->id == dns[i + 1]->id) {
      put_lookup(w, dns[i], dns[i + 1], ++span);
      i++;
    }
  }
  df__free(dns);
  return 0;
}

/* ---------------------------------------------------------------- file */

int df__trace_write_json(FILE *f, const df__trace_event *events, size_t n,
                         const df__trace_summary *s) {
  writer w = {f, s->t0, (int)getpid(), true};
  threads t;
  int rc = find_workers(events, n, &t);
  fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", f);
  if (rc == 0) {
    put_metadata(&w, s, &t);
    for (size_t i = 0; i < n; i++)
      put_round(&w, &events[i]);
    rc = put_jobs(&w, events, n, &t);
  }
  if (rc == 0)
    rc = put_lookups(&w, events, n);
  fprintf(f,
          "\n],\n\"otherData\":{\"producer\":\"deferred\","
          "\"clock\":\"CLOCK_MONOTONIC\",\"recorded_events\":%llu,"
          "\"dropped_events\":%llu,\"capacity\":%llu}}\n",
          (unsigned long long)s->recorded, (unsigned long long)s->dropped,
          (unsigned long long)s->capacity);
  df__free(t.workers);
  if (rc == 0 && (fflush(f) != 0 || ferror(f)))
    rc = -(errno != 0 ? errno : EIO);
  return rc;
}
