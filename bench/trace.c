/* `deferred-bench trace`: what recording a timeline (deferred/trace.h)
 * costs per pool job. The same burst of no-op jobs runs on a pool with no
 * trace and with one running; the difference per job is the cost of its
 * events (submit, run, callbacks) and its share of the reactor rounds.
 * The ring is big enough that nothing is dropped, and the file is written
 * after the clock stops.
 *
 * Instructions (callgrind, every thread): this program again in a child
 * under valgrind, `trace --child on|off JOBS THREADS`, at two sizes; the
 * difference divided by the difference in jobs cancels start-up and exit.
 * A child that counts recording alone, or no trace at all, leaves with
 * _exit() as soon as its burst is done (what it skips is the same at both
 * sizes); one more traced child stops its trace normally, so the difference
 * is the JSON writer's share per job. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <deferred.h>

#include "bench.h"
#include "pool_bench.h"

#define TRACE_THREADS 2
#define TRACE_MAX_THREADS 4

/* Set in a callgrind child: leave right after the burst. */
static bool exit_after_burst;

typedef struct burst {
  long jobs;
  long done;
} burst;

static df_result noop_work(void *arg) {
  (void)arg;
  return df_ok(NULL, NULL);
}

static df_result count_done(df_result in, void *arg) {
  ((burst *)arg)->done++;
  return in;
}

static void temp_path(char *out, size_t len) {
  snprintf(out, len, "%s/deferred-bench-trace.%ld.json", df_bench_temp_dir(),
           (long)getpid());
}

/* One burst of \p jobs on \p threads threads; ns per job, or -1. With
 * \p traced, *events receives the events recorded per job. */
static double run_burst(bool traced, long jobs, unsigned threads,
                        double *events) {
  df_reactor *r;
  df_pool *p;
  char path[512];
  double ns = -1.0;
  if (df_reactor_new(&r, NULL) != 0)
    return -1.0;
  if (df_pool_new(&p, r,
                  &(df_pool_options){.threads = threads,
                                     .max_queued = SIZE_MAX}) != 0) {
    df_reactor_free(r);
    return -1.0;
  }
  temp_path(path, sizeof path);
  /* Three events a job, and rounds: at most one per job, four events. */
  df_trace_options topts = {.capacity = (size_t)jobs * 7 + 1024};
  if (traced && df_trace_start_opts(r, path, &topts) != 0)
    goto out;
  burst b = {jobs, 0};
  uint64_t start = df_bench_now_ns();
  for (long i = 0; i < jobs; i++) {
    df_deferred *d = df_defer_to_thread(p, noop_work, NULL);
    df_add_callback(d, count_done, &b);
    df_unref(d);
  }
  while (b.done < jobs)
    if (df_reactor_run_once(r, -1) < 0)
      goto out;
  ns = (double)(df_bench_now_ns() - start) / (double)jobs;
  if (exit_after_burst) {
    printf("ok\n");
    fflush(stdout);
    unlink(path);
    _exit(0);
  }
  if (traced) {
    *events = (double)df_trace_recorded(r) / (double)jobs;
    if (df_trace_dropped(r) != 0)
      fprintf(stderr, "trace: the ring dropped events; the cost is low\n");
    if (df_trace_stop(r) != 0)
      ns = -1.0;
    unlink(path);
  }
out:
  if (traced && df_trace_recorded(r) == 0)
    (void)df_trace_stop(r);
  df_pool_free(p);
  df_reactor_free(r);
  return ns;
}

/* Median ns per job over \p reps bursts, alternating off and on so that
 * drifts of the machine hit both alike. */
static void measure(long jobs, unsigned threads, int reps, double out[2],
                    double *events) {
  double off[16], on[16];
  for (int i = 0; i < reps; i++) {
    off[i] = run_burst(false, jobs, threads, events);
    on[i] = run_burst(true, jobs, threads, events);
  }
  out[0] = df_bench_median(off, (size_t)reps);
  out[1] = df_bench_median(on, (size_t)reps);
}

/* ---------------------------------------------------------------- callgrind */

static int child_main(int argc, char **argv) {
  if (argc < 5)
    return 2;
  bool traced = strcmp(argv[2], "off") != 0;
  exit_after_burst = strcmp(argv[2], "write") != 0;
  long jobs = strtol(argv[3], NULL, 10);
  unsigned threads = (unsigned)strtoul(argv[4], NULL, 10);
  double events = 0.0;
  double ns = run_burst(traced, jobs, threads, &events);
  printf("%s\n", ns < 0 ? "failed" : "ok");
  return ns < 0 ? 1 : 0;
}

/* \p mode: 0 no trace, 1 a trace without writing its file, 2 with. */
static double callgrind_total(const char *valgrind, int mode, long jobs) {
  char self[4096];
  if (!df_bench_self_path(self, sizeof self))
    return -1.0;
  char out_file[600], out_opt[700], jobs_s[24], threads_s[24];
  temp_path(out_file, sizeof out_file - 16);
  strcat(out_file, ".callgrind");
  snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s", out_file);
  snprintf(jobs_s, sizeof jobs_s, "%ld", jobs);
  snprintf(threads_s, sizeof threads_s, "%d", TRACE_THREADS);
  char tool[] = "--tool=callgrind", quiet[] = "-q", cmd[] = "trace",
       child[] = "--child", on[] = "on", off[] = "off", write[] = "write";
  char *argv[12];
  int i = 0;
  argv[i++] = (char *)valgrind;
  argv[i++] = tool;
  argv[i++] = quiet;
  argv[i++] = out_opt;
  argv[i++] = self;
  argv[i++] = cmd;
  argv[i++] = child;
  argv[i++] = mode == 0 ? off : mode == 1 ? on : write;
  argv[i++] = jobs_s;
  argv[i++] = threads_s;
  argv[i] = NULL;
  char output[256];
  int status = df_bench_run_child(argv, NULL, NULL, output, sizeof output);
  double total = status == 0 && strstr(output, "\nok\n") != NULL
                     ? df_bench_callgrind_total(out_file)
                     : -1.0;
  unlink(out_file);
  return total;
}

/* Instructions per job: the difference of two sizes, for each mode. */
static void callgrind_per_job(const char *valgrind, long jobs, double out[3]) {
  for (int mode = 0; mode < 3; mode++) {
    double small = callgrind_total(valgrind, mode, jobs);
    double large = callgrind_total(valgrind, mode, jobs * 2);
    out[mode] = small < 0 || large < 0 ? -1.0 : (large - small) / jobs;
  }
}

/* ---------------------------------------------------------------- report */

static void progress(const char *what) {
  if (isatty(STDERR_FILENO))
    fprintf(stderr, "trace: %s...\n", what);
}

int df_bench_trace(int argc, char **argv, const df_bench_opts *o) {
  if (argc >= 2 && strcmp(argv[1], "--child") == 0)
    return child_main(argc, argv);
  long jobs = o->quick ? 5000 : 100000;
  int reps = o->quick ? 2 : 7;
  unsigned threads[] = {1, 2, 4};
  printf("trace: a burst of %ld no-op pool jobs, median of %d, no trace "
         "against a trace running (deferred/trace.h)\n\n",
         jobs, reps);
  printf("  %-10s %14s %14s %14s %14s\n", "threads", "off ns/job", "on ns/job",
         "cost ns/job", "events/job");
  for (size_t k = 0; k < sizeof threads / sizeof threads[0]; k++) {
    char what[64];
    snprintf(what, sizeof what, "%u thread%s", threads[k],
             threads[k] == 1 ? "" : "s");
    progress(what);
    double ns[2], events = 0.0;
    measure(jobs, threads[k], reps, ns, &events);
    if (ns[0] < 0 || ns[1] < 0) {
      fprintf(stderr, "trace: the run at %u threads failed\n", threads[k]);
      return 1;
    }
    printf("  %-10u %14.1f %14.1f %14.1f %14.2f\n", threads[k], ns[0], ns[1],
           ns[1] - ns[0], events);
    char name[64];
    snprintf(name, sizeof name, "off_ns_per_job_t%u", threads[k]);
    df_bench_json_metric(o->json, "trace", name, ns[0], "ns");
    snprintf(name, sizeof name, "on_ns_per_job_t%u", threads[k]);
    df_bench_json_metric(o->json, "trace", name, ns[1], "ns");
    snprintf(name, sizeof name, "cost_ns_per_job_t%u", threads[k]);
    df_bench_json_metric(o->json, "trace", name, ns[1] - ns[0], "ns");
    snprintf(name, sizeof name, "events_per_job_t%u", threads[k]);
    df_bench_json_metric(o->json, "trace", name, events, "events");
  }
  bool callgrind = o->callgrind == DF_BENCH_CALLGRIND_ON ||
                   (o->callgrind == DF_BENCH_CALLGRIND_DEFAULT && !o->quick);
  const char *valgrind = df_bench_find_valgrind();
  if (!callgrind || valgrind == NULL) {
    printf("\n  instructions per job: %s\n",
           !callgrind ? "not measured (--no-callgrind, or --quick)"
                      : "skipped, valgrind is not installed");
    return 0;
  }
  progress("callgrind");
  double insns[3];
  callgrind_per_job(valgrind, o->quick ? 2000 : 20000, insns);
  if (insns[0] < 0 || insns[1] < 0 || insns[2] < 0) {
    fprintf(stderr, "trace: the callgrind runs failed\n");
    return 1;
  }
  printf("\n  instructions per job (callgrind, all threads, %d threads):\n"
         "  %-34s %10.0f\n  %-34s %10.0f  (cost %.0f)\n"
         "  %-34s %10.0f  (cost %.0f)\n",
         TRACE_THREADS, "no trace", insns[0], "trace, recording", insns[1],
         insns[1] - insns[0], "trace, recording and writing", insns[2],
         insns[2] - insns[0]);
  df_bench_json_metric(o->json, "trace", "off_insns_per_job", insns[0],
                       "instructions");
  df_bench_json_metric(o->json, "trace", "record_insns_per_job", insns[1],
                       "instructions");
  df_bench_json_metric(o->json, "trace", "record_cost_insns_per_job",
                       insns[1] - insns[0], "instructions");
  df_bench_json_metric(o->json, "trace", "write_cost_insns_per_job",
                       insns[2] - insns[1], "instructions");
  return 0;
}
