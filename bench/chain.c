/* `deferred-bench chain`: callback-chain throughput (one Deferred, N trivial
 * callbacks, fired, released), what a Deferred costs in allocations and
 * bytes, what debug mode costs, and Twisted on the same workload; beside it,
 * in the same run, three floors (chain_floors.c) and, under callgrind when
 * valgrind is installed, instructions per callback of each. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <deferred/deferred.h>

#include "bench.h"
#include "chain_floors.h"

#define MAX_SIZES 16
#define TWISTED_SCRIPT_NAME "twisted_chain.py"

static const size_t default_sizes[] = {1, 10, 100, 1000};

typedef struct chain_config {
  size_t sizes[MAX_SIZES];
  size_t n_sizes;
  bool twisted;    /* run the Twisted baseline */
  bool only_chain; /* just the N table: for profilers */
  size_t samples;  /* timed runs per figure; the median is kept */
  uint64_t callbacks_per_sample;
} chain_config;

/* The library and its floors, run side by side. */
enum { V_OURS, V_ARRAY, V_MALLOC, V_CALLS, N_VARIANTS };

typedef struct chain_variant {
  const char *name;  /* command-line and JSON name */
  const char *title; /* column title */
  df_bench_chain_fn one;
} chain_variant;

static int one_deferred(size_t n, uint64_t *counter);

static const chain_variant variants[N_VARIANTS] = {
    {"deferred", "deferred", one_deferred},
    {"array_floor", "array", df_bench_floor_array},
    {"malloc_floor", "malloc", df_bench_floor_malloc},
    {"calls_floor", "calls", df_bench_floor_calls},
};

typedef struct chain_row {
  size_t n;
  double ns_per_callback; /* median, create+add+fire+release amortised */
  double best_ns;         /* fastest run: the code's cost on a busy box */
  double allocs;          /* allocator calls per Deferred */
  double twisted_ns;      /* Twisted's ns per callback; < 0: not measured */
  double floor_ns[N_VARIANTS]; /* medians of the same run; [V_OURS] too */
  double ir[N_VARIANTS]; /* instructions per callback; < 0: not measured */
} chain_row;

/* ---------------------------------------------------------------- workload */

/* The trivial callback is df_bench_count_cb (chain_floors.c), shared with
 * the floors: it passes its input on, one step further (Twisted's side
 * returns its input unchanged), and the value that reaches the end of the
 * chain proves every callback ran. */
#define count_cb df_bench_count_cb

/* One Deferred with n callbacks, fired and released; adds the number of
 * callbacks that ran to *counter. Returns 0 or -1. */
static int one_deferred(size_t n, uint64_t *counter) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d == NULL) {
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    if (df_add_callback(d, count_cb, NULL) == NULL) {
      df_unref(d);
      return -1;
    }
  }
  int rc = df_callback(d, NULL, NULL);
  df_result end;
  if (rc == 0 && df_peek(d, &end))
    *counter += (uintptr_t)end.ptr;
  df_unref(d);
  return rc == 0 ? 0 : -1;
}

/* Nanoseconds per callback over iters Deferreds of n callbacks; negative
 * when the library failed or skipped a callback. The loop is one thread
 * doing pure computation, so its CPU time is its cost: time spent
 * preempted on a busy machine is left out. */
static double time_variant(df_bench_chain_fn one, size_t n, uint64_t iters) {
  uint64_t counter = 0;
  uint64_t start = df_bench_thread_cpu_ns();
  for (uint64_t k = 0; k < iters; k++) {
    if (one(n, &counter) != 0) {
      return -1.0;
    }
  }
  uint64_t elapsed = df_bench_thread_cpu_ns() - start;
  df_bench_consume((uintptr_t)counter);
  if (counter != iters * n) {
    fprintf(stderr, "chain: %llu callbacks ran, %llu expected\n",
            (unsigned long long)counter, (unsigned long long)(iters * n));
    return -1.0;
  }
  return (double)elapsed / (double)(iters * n);
}

static double time_chain(size_t n, uint64_t iters) {
  return time_variant(one_deferred, n, iters);
}

static uint64_t iters_for(const chain_config *c, size_t n) {
  uint64_t iters = c->callbacks_per_sample / n;
  return iters > 0 ? iters : 1;
}

/* Median over c->samples runs, after a warm-up run; *best gets the fastest
 * run when best is not NULL. */
static double measure_chain(const chain_config *c, size_t n, double *best) {
  double runs[64];
  size_t samples = c->samples < 64 ? c->samples : 64;
  uint64_t iters = iters_for(c, n);
  if (time_chain(n, iters / 10 + 1) < 0.0) {
    return -1.0;
  }
  for (size_t s = 0; s < samples; s++) {
    runs[s] = time_chain(n, iters);
    if (runs[s] < 0.0) {
      return -1.0;
    }
  }
  double median = df_bench_median(runs, samples); /* sorts runs */
  if (best != NULL) {
    *best = runs[0];
  }
  return median;
}

/* Every variant at size n, sample by sample in turn so that drift of the
 * machine hits all alike; medians into row->floor_ns. */
static int measure_floors(const chain_config *c, chain_row *row) {
  double runs[N_VARIANTS][64];
  size_t samples = c->samples < 64 ? c->samples : 64;
  uint64_t iters = iters_for(c, row->n);
  for (int v = 0; v < N_VARIANTS; v++) {
    if (time_variant(variants[v].one, row->n, iters / 10 + 1) < 0.0) {
      return -1;
    }
  }
  for (size_t s = 0; s < samples; s++) {
    for (int v = 0; v < N_VARIANTS; v++) {
      runs[v][s] = time_variant(variants[v].one, row->n, iters);
      if (runs[v][s] < 0.0) {
        return -1;
      }
    }
  }
  for (int v = 0; v < N_VARIANTS; v++) {
    row->floor_ns[v] = df_bench_median(runs[v], samples);
  }
  return 0;
}

/* ---------------------------------------------------------------- callgrind */

/* Instructions are counted by re-running this program under callgrind as a
 * child ("chain --callgrind-child VARIANT N ITERS"), twice with different
 * numbers of Deferreds: the difference leaves out start-up and the
 * valgrind's own work, and divided by the extra callbacks gives
 * instructions per callback. */
#define CHILD_FLAG "--callgrind-child"

/* The child: runs the workload and exits; its output is not read. */
static int callgrind_child(int argc, char **argv) {
  if (argc != 5) {
    return 2;
  }
  size_t n = (size_t)strtoull(argv[3], NULL, 10);
  uint64_t iters = strtoull(argv[4], NULL, 10);
  for (int v = 0; v < N_VARIANTS; v++) {
    if (strcmp(argv[2], variants[v].name) != 0) {
      continue;
    }
    if (v == V_CALLS && df_bench_floor_calls_prepare(n) != 0) {
      return 1;
    }
    uint64_t counter = 0;
    for (uint64_t k = 0; k < iters; k++) {
      if (variants[v].one(n, &counter) != 0) {
        return 1;
      }
    }
    df_bench_consume((uintptr_t)counter);
    return counter == n * iters ? 0 : 1;
  }
  return 2;
}

/* Instructions callgrind collected for one child run; -1 on failure. */
static double callgrind_run(const char *valgrind, const char *variant, size_t n,
                            uint64_t iters) {
  char self[4096];
  char log_arg[64 + sizeof self];
  char n_text[24];
  char iters_text[24];
  char out[256];
  if (!df_bench_self_path(self, sizeof self)) {
    return -1.0;
  }
  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s/deferred-bench-callgrind-XXXXXX",
           df_bench_temp_dir()); /* a mkstemp() template */
  int fd = mkstemp(log_path);
  if (fd < 0) {
    return -1.0;
  }
  close(fd);
  snprintf(log_arg, sizeof log_arg, "--log-file=%s", log_path);
  snprintf(n_text, sizeof n_text, "%zu", n);
  snprintf(iters_text, sizeof iters_text, "%llu", (unsigned long long)iters);
  char *argv[] = {(char *)valgrind,
                  (char *)"--tool=callgrind",
                  (char *)"--callgrind-out-file=/dev/null",
                  log_arg,
                  self,
                  (char *)"chain",
                  (char *)CHILD_FLAG,
                  (char *)variant,
                  n_text,
                  iters_text,
                  NULL};
  int status = df_bench_run_child(argv, NULL, NULL, out, sizeof out);
  double collected = -1.0;
  FILE *log = fopen(log_path, "r");
  if (log != NULL) {
    char line[512];
    while (fgets(line, sizeof line, log) != NULL) {
      const char *at = strstr(line, "Collected : ");
      if (at != NULL) {
        collected = strtod(at + strlen("Collected : "), NULL);
      }
    }
    fclose(log);
  }
  unlink(log_path);
  return status == 0 ? collected : -1.0;
}

/* Instructions per callback of every variant at size n, into row->ir. */
static void count_instructions(const char *valgrind, bool quick,
                               chain_row *row) {
  uint64_t base = (quick ? 20000 : 100000) / row->n + 1;
  for (int v = 0; v < N_VARIANTS; v++) {
    double small = callgrind_run(valgrind, variants[v].name, row->n, base);
    double large = callgrind_run(valgrind, variants[v].name, row->n, 3 * base);
    row->ir[v] = small >= 0.0 && large > small
                     ? (large - small) / (double)(2 * base * row->n)
                     : -1.0;
  }
}

/* ---------------------------------------------------------------- memory */

/* Allocations (malloc and realloc calls) made by one Deferred of n
 * callbacks, from creation to release, under the counting allocator; every
 * block must be freed again. Negative on error. */
static double count_allocs(size_t n) {
  uint64_t counter = 0;
  if (df_bench_alloc_install() != 0) {
    return -1.0;
  }
  int rc = one_deferred(n, &counter);
  df_bench_alloc_stats s = df_bench_alloc_read();
  df_bench_alloc_uninstall();
  if (rc != 0 || s.allocs != s.frees || s.live_bytes != 0) {
    fprintf(stderr, "chain: %zu callbacks: rc %d, %llu allocs, %llu frees\n", n,
            rc, (unsigned long long)s.allocs, (unsigned long long)s.frees);
    return -1.0;
  }
  return (double)(s.allocs + s.reallocs);
}

/* Bytes a pending Deferred holds once n callbacks were added: the net bytes
 * the counting allocator handed out for df_deferred_new and the adds. */
static int pending_bytes(size_t n, int64_t *bytes, uint64_t *allocs) {
  if (df_bench_alloc_install() != 0) {
    return -1;
  }
  int rc = -1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  if (d != NULL) {
    rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
      rc = df_add_callback(d, count_cb, NULL) == d ? 0 : -1;
    }
    df_bench_alloc_stats s = df_bench_alloc_read();
    *bytes = s.live_bytes;
    *allocs = s.allocs + s.reallocs;
    if (df_callback(d, NULL, NULL) != 0) {
      rc = -1;
    }
    df_unref(d);
  }
  df_bench_alloc_uninstall();
  return rc;
}

/* ---------------------------------------------------------------- debug */

/* N = 1 cost with debug mode off and on, alternating so that drift of the
 * machine hits both alike. */
static int debug_cost(const chain_config *c, double *off, double *on) {
  double offs[64];
  double ons[64];
  size_t samples = c->samples < 64 ? c->samples : 64;
  uint64_t iters = iters_for(c, 1);
  bool saved = df_get_debugging();
  int rc = 0;
  df_set_debugging(true); /* warm-up: the first runs pay for page faults */
  (void)time_chain(1, iters / 10 + 1);
  for (size_t s = 0; s < samples && rc == 0; s++) {
    df_set_debugging(false);
    offs[s] = time_chain(1, iters);
    df_set_debugging(true);
    ons[s] = time_chain(1, iters);
    if (offs[s] < 0.0 || ons[s] < 0.0) {
      rc = -1;
    }
  }
  df_set_debugging(saved);
  if (rc == 0) {
    *off = df_bench_median(offs, samples);
    *on = df_bench_median(ons, samples);
  }
  return rc;
}

/* ---------------------------------------------------------------- Twisted */

/* The script next to the binary, else the one in the source tree. */
static bool find_script(char *buf, size_t size) {
  if (df_bench_self_path(buf, size)) {
    char *slash = strrchr(buf, '/');
    if (slash != NULL &&
        (size_t)(slash - buf) + sizeof "/" TWISTED_SCRIPT_NAME <= size) {
      strcpy(slash, "/" TWISTED_SCRIPT_NAME);
      if (access(buf, R_OK) == 0) {
        return true;
      }
    }
  }
  snprintf(buf, size, "%s", DF_BENCH_TWISTED_SCRIPT);
  return access(buf, R_OK) == 0;
}

/* Fills rows[].twisted_ns from the script's "chain N ns" lines. Returns a
 * short reason when the baseline is unavailable, NULL when it ran. */
static const char *run_twisted(const chain_config *c, bool quick,
                               chain_row *rows, char *version, size_t vsize) {
  char script[4096];
  char numbers[MAX_SIZES][24];
  char *argv[MAX_SIZES + 4];
  char out[4096];
  size_t argc = 0;
  if (!find_script(script, sizeof script)) {
    return TWISTED_SCRIPT_NAME " not found";
  }
  argv[argc++] = (char *)DF_BENCH_PYTHON;
  argv[argc++] = script;
  if (quick) {
    argv[argc++] = (char *)"--quick";
  }
  for (size_t i = 0; i < c->n_sizes; i++) {
    snprintf(numbers[i], sizeof numbers[i], "%zu", c->sizes[i]);
    argv[argc++] = numbers[i];
  }
  argv[argc] = NULL;
  int status = df_bench_run_child(argv, NULL, NULL, out, sizeof out);
  if (status == 3) {
    return "Twisted is not importable by " DF_BENCH_PYTHON;
  }
  if (status != 0) {
    return "the Twisted script failed";
  }
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    size_t n;
    double ns;
    char v[64];
    if (sscanf(line, "chain %zu %lf", &n, &ns) == 2) {
      for (size_t i = 0; i < c->n_sizes; i++) {
        if (rows[i].n == n) {
          rows[i].twisted_ns = ns;
        }
      }
    } else if (sscanf(line, "version %63s", v) == 1) {
      snprintf(version, vsize, "%s", v);
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------- report */

static const chain_row *find_row(const chain_row *rows, size_t n_rows,
                                 size_t n) {
  for (size_t i = 0; i < n_rows; i++) {
    if (rows[i].n == n && rows[i].ns_per_callback >= 0.0) {
      return &rows[i];
    }
  }
  return NULL;
}

static void print_rows(const chain_row *rows, size_t n_rows) {
  printf("  %6s %12s %8s %12s %12s %7s %14s %8s\n", "N", "ns/callback",
         "(best)", "callbacks/s", "ns/Deferred", "allocs", "Twisted ns/cb",
         "ratio");
  for (size_t i = 0; i < n_rows; i++) {
    const chain_row *r = &rows[i];
    printf("  %6zu %12.2f %8.2f %12.4g %12.1f %7.0f", r->n, r->ns_per_callback,
           r->best_ns, 1e9 / r->ns_per_callback,
           r->ns_per_callback * (double)r->n, r->allocs);
    if (r->twisted_ns > 0.0) {
      printf(" %14.1f %7.0fx\n", r->twisted_ns,
             r->twisted_ns / r->ns_per_callback);
    } else {
      printf(" %14s %8s\n", "n/a", "n/a");
    }
  }
}

static void record_rows(df_bench_json *j, const chain_row *rows,
                        size_t n_rows) {
  char name[64];
  for (size_t i = 0; i < n_rows; i++) {
    const chain_row *r = &rows[i];
    snprintf(name, sizeof name, "ns_per_callback_n%zu", r->n);
    df_bench_json_metric(j, "chain", name, r->ns_per_callback, "ns");
    snprintf(name, sizeof name, "best_ns_per_callback_n%zu", r->n);
    df_bench_json_metric(j, "chain", name, r->best_ns, "ns");
    snprintf(name, sizeof name, "callbacks_per_second_n%zu", r->n);
    df_bench_json_metric(j, "chain", name, 1e9 / r->ns_per_callback, "1/s");
    snprintf(name, sizeof name, "allocs_per_deferred_n%zu", r->n);
    df_bench_json_metric(j, "chain", name, r->allocs, "allocs");
    if (r->twisted_ns > 0.0) {
      snprintf(name, sizeof name, "twisted_ns_per_callback_n%zu", r->n);
      df_bench_json_metric(j, "chain", name, r->twisted_ns, "ns");
      snprintf(name, sizeof name, "ratio_vs_twisted_n%zu", r->n);
      df_bench_json_metric(j, "chain", name, r->twisted_ns / r->ns_per_callback,
                           "x");
    }
  }
}

/* ---------------------------------------------------------------- driver */

static int parse_args(int argc, char **argv, bool quick, chain_config *c) {
  c->n_sizes = 0;
  c->twisted = true;
  c->only_chain = false;
  c->samples = quick ? 3 : 11;
  c->callbacks_per_sample = quick ? 100000 : 2000000;
  for (int i = 1; i < argc; i++) {
    char *end;
    if (strcmp(argv[i], "--no-twisted") == 0) {
      c->twisted = false;
      continue;
    }
    if (strcmp(argv[i], "--only-chain") == 0) {
      c->only_chain = true;
      c->twisted = false;
      continue;
    }
    errno = 0;
    unsigned long long n = strtoull(argv[i], &end, 10);
    if (errno != 0 || *end != '\0' || n == 0 || n > 1000000 ||
        c->n_sizes == MAX_SIZES) {
      fprintf(stderr,
              "usage: chain [--no-twisted] [--only-chain] [N ...]   "
              "(1 <= N <= 1000000, "
              "at most %d sizes)\n",
              MAX_SIZES);
      return -1;
    }
    c->sizes[c->n_sizes++] = (size_t)n;
  }
  if (c->n_sizes == 0) {
    c->n_sizes = sizeof default_sizes / sizeof default_sizes[0];
    memcpy(c->sizes, default_sizes, sizeof default_sizes);
  }
  return 0;
}

static int measure_rows(const chain_config *c, chain_row *rows,
                        const char *valgrind, bool quick) {
  size_t max_n = 1;
  for (size_t i = 0; i < c->n_sizes; i++) {
    max_n = c->sizes[i] > max_n ? c->sizes[i] : max_n;
  }
  if (df_bench_floor_calls_prepare(max_n) != 0) {
    return -1;
  }
  for (size_t i = 0; i < c->n_sizes; i++) {
    rows[i].n = c->sizes[i];
    rows[i].twisted_ns = -1.0;
    rows[i].ns_per_callback = measure_chain(c, c->sizes[i], &rows[i].best_ns);
    rows[i].allocs = count_allocs(c->sizes[i]);
    if (rows[i].ns_per_callback < 0.0 || rows[i].allocs < 0.0 ||
        measure_floors(c, &rows[i]) != 0) {
      fprintf(stderr, "chain: N = %zu failed\n", c->sizes[i]);
      return -1;
    }
    for (int v = 0; v < N_VARIANTS; v++) {
      rows[i].ir[v] = -1.0;
    }
    if (valgrind != NULL) {
      count_instructions(valgrind, quick, &rows[i]);
    }
  }
  return 0;
}

/* ours / floor, or -1 when either is missing. */
static double ratio(double ours, double floor) {
  return ours > 0.0 && floor > 0.0 ? ours / floor : -1.0;
}

static void print_ratio(double r) {
  if (r > 0.0) {
    printf(" %7.2fx", r);
  } else {
    printf(" %8s", "n/a");
  }
}

/* The floors table: ns per callback of every variant from the same
 * samples, instructions per callback under callgrind, and our ratios to
 * the array and malloc floors. */
static void report_floors(const df_bench_opts *o, const chain_row *rows,
                          size_t n_rows, const char *valgrind) {
  printf("\n  floors, same run (ns per callback, median; N = 1 is the whole "
         "create + add + fire + release):\n");
  printf("  %6s", "N");
  for (int v = 0; v < N_VARIANTS; v++) {
    printf(" %10s", variants[v].title);
  }
  printf(" %8s %8s\n", "/array", "/malloc");
  for (size_t i = 0; i < n_rows; i++) {
    const chain_row *r = &rows[i];
    printf("  %6zu", r->n);
    for (int v = 0; v < N_VARIANTS; v++) {
      printf(" %10.2f", r->floor_ns[v]);
    }
    print_ratio(ratio(r->floor_ns[V_OURS], r->floor_ns[V_ARRAY]));
    print_ratio(ratio(r->floor_ns[V_OURS], r->floor_ns[V_MALLOC]));
    printf("\n");
  }
  if (valgrind == NULL) {
    printf("  instructions per callback: valgrind not installed\n");
  } else {
    printf("  instructions per callback (callgrind, difference of two run "
           "sizes):\n");
    for (size_t i = 0; i < n_rows; i++) {
      const chain_row *r = &rows[i];
      printf("  %6zu", r->n);
      for (int v = 0; v < N_VARIANTS; v++) {
        printf(" %10.1f", r->ir[v]);
      }
      print_ratio(ratio(r->ir[V_OURS], r->ir[V_ARRAY]));
      print_ratio(ratio(r->ir[V_OURS], r->ir[V_MALLOC]));
      printf("\n");
    }
  }
  char name[96];
  for (size_t i = 0; i < n_rows; i++) {
    const chain_row *r = &rows[i];
    for (int v = 0; v < N_VARIANTS; v++) {
      snprintf(name, sizeof name, "%s_ns_per_callback_n%zu", variants[v].name,
               r->n);
      df_bench_json_metric(o->json, "chain", name, r->floor_ns[v], "ns");
      if (r->ir[v] >= 0.0) {
        snprintf(name, sizeof name, "%s_instructions_per_callback_n%zu",
                 variants[v].name, r->n);
        df_bench_json_metric(o->json, "chain", name, r->ir[v], "instructions");
      }
    }
    static const struct {
      const char *name;
      int floor;
    } floors[] = {{"array", V_ARRAY}, {"malloc", V_MALLOC}, {"calls", V_CALLS}};
    for (size_t f = 0; f < sizeof floors / sizeof floors[0]; f++) {
      double t = ratio(r->floor_ns[V_OURS], r->floor_ns[floors[f].floor]);
      double ir = ratio(r->ir[V_OURS], r->ir[floors[f].floor]);
      snprintf(name, sizeof name, "ratio_vs_%s_floor_n%zu", floors[f].name,
               r->n);
      df_bench_json_metric(o->json, "chain", name, t, "x");
      if (ir > 0.0) {
        snprintf(name, sizeof name, "instruction_ratio_vs_%s_floor_n%zu",
                 floors[f].name, r->n);
        df_bench_json_metric(o->json, "chain", name, ir, "x");
      }
    }
  }
}

/* The figures around the N table. */
typedef struct chain_extras {
  double op_ns;        /* create + add 1 callback + fire + release */
  double max_allocs_4; /* most allocations of a Deferred with 0..4 callbacks */
  int64_t bytes3;      /* held by a pending Deferred with 3 callbacks */
  uint64_t allocs3;    /* ... in that many allocations */
  double debug_off;    /* N = 1 op, debug mode off */
  double debug_on;     /* ... and on */
} chain_extras;

static int measure_extras(const chain_config *c, chain_extras *x) {
  x->op_ns = measure_chain(c, 1, NULL);
  x->max_allocs_4 = 0.0;
  for (size_t n = 0; n <= 4; n++) {
    double a = count_allocs(n);
    if (a < 0.0) {
      return -1;
    }
    x->max_allocs_4 = a > x->max_allocs_4 ? a : x->max_allocs_4;
  }
  if (x->op_ns < 0.0 || pending_bytes(3, &x->bytes3, &x->allocs3) != 0 ||
      debug_cost(c, &x->debug_off, &x->debug_on) != 0) {
    return -1;
  }
  return 0;
}

static void report_extras(const df_bench_opts *o, const chain_extras *x,
                          const chain_row *r1) {
  printf("  create + add 1 callback + fire + release:            %.1f ns",
         x->op_ns);
  if (r1 != NULL && r1->twisted_ns > 0.0) {
    printf(" (Twisted %.0f ns, %.0fx)", r1->twisted_ns,
           r1->twisted_ns / x->op_ns);
  }
  printf("\n  allocations per Deferred, 0..4 callbacks:             at most "
         "%.0f\n",
         x->max_allocs_4);
  printf("  pending Deferred with 3 callbacks:                    %lld bytes "
         "in %llu allocation(s)\n",
         (long long)x->bytes3, (unsigned long long)x->allocs3);
  printf("  debug mode, N = 1 op: off %.1f ns, on %.1f ns (on costs %+.1f "
         "ns)\n",
         x->debug_off, x->debug_on, x->debug_on - x->debug_off);

  df_bench_json *j = o->json;
  df_bench_json_metric(j, "chain", "op_create_add_fire_release_ns", x->op_ns,
                       "ns");
  df_bench_json_metric(j, "chain", "max_allocs_up_to_4_callbacks",
                       x->max_allocs_4, "allocs");
  df_bench_json_metric(j, "chain", "pending_3_callbacks_bytes",
                       (double)x->bytes3, "bytes");
  df_bench_json_metric(j, "chain", "pending_3_callbacks_allocs",
                       (double)x->allocs3, "allocs");
  df_bench_json_metric(j, "chain", "debug_off_op_ns", x->debug_off, "ns");
  df_bench_json_metric(j, "chain", "debug_on_op_ns", x->debug_on, "ns");
}

/* The slope between N = 100 and 1000 leaves out the per-Deferred part. */
static void report_marginal(const df_bench_opts *o, const chain_row *r100,
                            const chain_row *r1000) {
  if (r100 == NULL || r1000 == NULL) {
    return;
  }
  double slope =
      (r1000->ns_per_callback * 1000.0 - r100->ns_per_callback * 100.0) / 900.0;
  printf("  marginal cost of one more callback (N 100 -> 1000): %.2f ns\n",
         slope);
  df_bench_json_metric(o->json, "chain", "marginal_ns_per_callback", slope,
                       "ns");
}

static void report_budgets(const df_bench_opts *o, const chain_extras *x,
                           const chain_row *r1, const chain_row *r100) {
  double ratio100 = r100 != NULL && r100->twisted_ns > 0.0
                        ? r100->twisted_ns / r100->ns_per_callback
                        : -1.0;
  df_bench_budget budgets[] = {
      {"time vs array floor, N = 100",
       r100 ? ratio(r100->floor_ns[V_OURS], r100->floor_ns[V_ARRAY]) : -1.0,
       1.25, false, "x"},
      {"instructions vs array floor, N = 100",
       r100 ? ratio(r100->ir[V_OURS], r100->ir[V_ARRAY]) : -1.0, 1.25, false,
       "x"},
      {"time vs malloc floor, N = 1 whole cycle",
       r1 ? ratio(r1->floor_ns[V_OURS], r1->floor_ns[V_MALLOC]) : -1.0, 1.5,
       false, "x"},
      {"instructions vs malloc floor, N = 1",
       r1 ? ratio(r1->ir[V_OURS], r1->ir[V_MALLOC]) : -1.0, 1.5, false, "x"},
      {"speed-up over Twisted, N = 100", ratio100, 200.0, true, "x"},
      {"allocations per Deferred, <= 4 callbacks", x->max_allocs_4, 1.0, false,
       "allocs"},
      {"bytes, pending Deferred with 3 callbacks", (double)x->bytes3, 128.0,
       false, "B"},
  };
  df_bench_print_budgets(o, "chain", budgets,
                         sizeof budgets / sizeof budgets[0]);
}

int df_bench_chain(int argc, char **argv, const df_bench_opts *o) {
  chain_config c;
  chain_row rows[MAX_SIZES];
  chain_extras x = {0.0, 0.0, 0, 0, 0.0, 0.0};
  if (argc > 1 && strcmp(argv[1], CHILD_FLAG) == 0) {
    df_set_debugging(false);
    return callgrind_child(argc, argv);
  }
  if (parse_args(argc, argv, o->quick, &c) != 0) {
    return 1;
  }
  df_set_debugging(false);
  const char *valgrind = !c.only_chain ? df_bench_find_valgrind() : NULL;

  printf("chain: one Deferred, N trivial callbacks, fired, released "
         "(thread CPU time, median of %zu runs of ~%llu callbacks; best: the "
         "fastest run)\n",
         c.samples, (unsigned long long)c.callbacks_per_sample);
  if (measure_rows(&c, rows, valgrind, o->quick) != 0) {
    return 1;
  }
  if (!c.only_chain && measure_extras(&c, &x) != 0) {
    fprintf(stderr, "chain: a measurement failed\n");
    return 1;
  }

  char version[64] = "?";
  const char *why_not = "skipped";
  if (c.twisted) {
    why_not = run_twisted(&c, o->quick, rows, version, sizeof version);
  }
  print_rows(rows, c.n_sizes);
  record_rows(o->json, rows, c.n_sizes);
  if (why_not != NULL) {
    printf("  Twisted baseline: %s\n", why_not);
  } else {
    printf("  Twisted %s, same workload, run by %s\n", version,
           DF_BENCH_PYTHON);
    df_bench_json_text(o->json, "chain", "twisted_version", version);
  }
  report_floors(o, rows, c.n_sizes, valgrind);
  printf("\n");
  const chain_row *r100 = find_row(rows, c.n_sizes, 100);
  report_marginal(o, r100, find_row(rows, c.n_sizes, 1000));
  if (!c.only_chain) {
    report_extras(o, &x, find_row(rows, c.n_sizes, 1));
    report_budgets(o, &x, find_row(rows, c.n_sizes, 1), r100);
  }
  return 0;
}
