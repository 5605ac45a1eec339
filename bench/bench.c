/* Helpers shared by the deferred-bench subcommands: clock, order
 * statistics, JSON, budgets and the counting allocator. */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <deferred/error.h>

/* ---------------------------------------------------------------- time */

uint64_t df_bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t df_bench_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return (x > y) - (x < y);
}

double df_bench_percentile(double *v, size_t n, double p) {
  if (n == 0) {
    return 0.0;
  }
  qsort(v, n, sizeof *v, compare_doubles);
  if (p <= 0.0) {
    return v[0];
  }
  if (p >= 1.0) {
    return v[n - 1];
  }
  double pos = p * (double)(n - 1);
  size_t lo = (size_t)pos;
  double frac = pos - (double)lo;
  if (lo + 1 >= n) {
    return v[n - 1];
  }
  return v[lo] + (v[lo + 1] - v[lo]) * frac;
}

double df_bench_median(double *v, size_t n) {
  return df_bench_percentile(v, n, 0.5);
}

/* A store the compiler must perform: whatever fed it must be computed. */
static _Atomic uintptr_t consumed;

void df_bench_consume(uintptr_t word) {
  atomic_store_explicit(&consumed, word, memory_order_relaxed);
}

/* ---------------------------------------------------------------- JSON */

struct df_bench_json {
  FILE *f;
  bool first; /* no record written yet: no comma before the next one */
};

df_bench_json *df_bench_json_open(const char *path) {
  df_bench_json *j = malloc(sizeof *j);
  if (j == NULL) {
    return NULL;
  }
  j->f = fopen(path, "w");
  if (j->f == NULL) {
    int saved = errno;
    free(j);
    errno = saved;
    return NULL;
  }
  j->first = true;
  fputs("{\"program\":\"deferred-bench\",\"results\":[", j->f);
  return j;
}

int df_bench_json_close(df_bench_json *j) {
  if (j == NULL) {
    return 0;
  }
  fputs("\n]}\n", j->f);
  int bad = ferror(j->f);
  if (fclose(j->f) != 0) {
    bad = 1;
  }
  free(j);
  return bad ? -1 : 0;
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\') {
      fputc('\\', f);
      fputc(*p, f);
    } else if (*p < 0x20) {
      fprintf(f, "\\u%04x", (unsigned)*p);
    } else {
      fputc(*p, f);
    }
  }
  fputc('"', f);
}

/* JSON has no NaN or infinity: those become null. */
static void json_number(FILE *f, double v) {
  if (isfinite(v)) {
    fprintf(f, "%.6g", v);
  } else {
    fputs("null", f);
  }
}

static void json_begin_record(df_bench_json *j, const char *bench,
                              const char *key, const char *name) {
  fputs(j->first ? "\n" : ",\n", j->f);
  j->first = false;
  fputs("{\"bench\":", j->f);
  json_string(j->f, bench);
  fprintf(j->f, ",\"%s\":", key);
  json_string(j->f, name);
}

void df_bench_json_metric(df_bench_json *j, const char *bench, const char *name,
                          double value, const char *unit) {
  if (j == NULL) {
    return;
  }
  json_begin_record(j, bench, "name", name);
  fputs(",\"value\":", j->f);
  json_number(j->f, value);
  if (unit != NULL) {
    fputs(",\"unit\":", j->f);
    json_string(j->f, unit);
  }
  fputc('}', j->f);
}

void df_bench_json_text(df_bench_json *j, const char *bench, const char *name,
                        const char *text) {
  if (j == NULL) {
    return;
  }
  json_begin_record(j, bench, "name", name);
  fputs(",\"text\":", j->f);
  json_string(j->f, text);
  fputc('}', j->f);
}

/* ---------------------------------------------------------------- budgets */

static const char *budget_verdict(const df_bench_budget *b) {
  if (b->measured < 0.0 || !isfinite(b->measured)) {
    return "SKIP";
  }
  bool ok = b->at_least ? b->measured >= b->limit : b->measured <= b->limit;
  return ok ? "PASS" : "MISS";
}

int df_bench_print_budgets(const df_bench_opts *o, const char *bench,
                           const df_bench_budget *rows, size_t n) {
  int missed = 0;
  printf("\n%s budget (informational)\n", bench);
  printf("  %-46s %12s %12s  %s\n", "budget", "measured", "limit", "verdict");
  for (size_t i = 0; i < n; i++) {
    const df_bench_budget *b = &rows[i];
    const char *unit = b->unit ? b->unit : "";
    const char *verdict = budget_verdict(b);
    char measured[32];
    char limit[32];
    if (strcmp(verdict, "SKIP") == 0) {
      snprintf(measured, sizeof measured, "n/a");
    } else {
      snprintf(measured, sizeof measured, "%.4g %s", b->measured, unit);
    }
    snprintf(limit, sizeof limit, "%s %.4g %s",
             b->at_least ? ">=" : "<=", b->limit, unit);
    printf("  %-46s %12s %12s  %s\n", b->what, measured, limit, verdict);
    if (strcmp(verdict, "MISS") == 0) {
      missed++;
    }
    if (o != NULL && o->json != NULL) {
      df_bench_json *j = o->json;
      json_begin_record(j, bench, "budget", b->what);
      fputs(",\"value\":", j->f);
      json_number(j->f, strcmp(verdict, "SKIP") == 0 ? NAN : b->measured);
      fputs(",\"limit\":", j->f);
      json_number(j->f, b->limit);
      fprintf(j->f, ",\"op\":\"%s\",\"unit\":", b->at_least ? ">=" : "<=");
      json_string(j->f, unit);
      fputs(",\"verdict\":", j->f);
      json_string(j->f, verdict);
      fputc('}', j->f);
    }
  }
  return missed;
}

/* ---------------------------------------------------------------- allocator */

/* Each block carries its requested size in a header, so free() can keep
 * live_bytes exact without a side table. The header keeps max alignment. */
typedef union alloc_header {
  size_t size;
  max_align_t align;
} alloc_header;

static _Atomic uint64_t n_allocs;
static _Atomic uint64_t n_reallocs;
static _Atomic uint64_t n_frees;
static _Atomic uint64_t n_bytes;
static _Atomic int64_t n_live;

static void count_alloc(size_t size) {
  atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&n_bytes, size, memory_order_relaxed);
  atomic_fetch_add_explicit(&n_live, (int64_t)size, memory_order_relaxed);
}

static void count_free(size_t size) {
  atomic_fetch_add_explicit(&n_frees, 1, memory_order_relaxed);
  atomic_fetch_sub_explicit(&n_live, (int64_t)size, memory_order_relaxed);
}

static void *counting_malloc(size_t size) {
  alloc_header *h = malloc(sizeof *h + size);
  if (h == NULL) {
    return NULL;
  }
  h->size = size;
  count_alloc(size);
  return h + 1;
}

static void counting_free(void *p) {
  if (p == NULL) {
    return;
  }
  alloc_header *h = (alloc_header *)p - 1;
  count_free(h->size);
  free(h);
}

static void *counting_realloc(void *p, size_t size) {
  if (p == NULL) {
    return counting_malloc(size);
  }
  alloc_header *old = (alloc_header *)p - 1;
  size_t old_size = old->size;
  if (size == 0) {
    counting_free(p);
    return NULL;
  }
  alloc_header *h = realloc(old, sizeof *h + size);
  if (h == NULL) {
    return NULL;
  }
  h->size = size;
  /* The block lives on: live bytes move by the difference. */
  atomic_fetch_add_explicit(&n_reallocs, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&n_bytes, size, memory_order_relaxed);
  atomic_fetch_add_explicit(&n_live, (int64_t)size - (int64_t)old_size,
                            memory_order_relaxed);
  return h + 1;
}

int df_bench_alloc_install(void) {
  df_bench_alloc_reset();
  return df_replace_allocator(counting_malloc, counting_realloc, counting_free);
}

void df_bench_alloc_uninstall(void) {
  (void)df_replace_allocator(NULL, NULL, NULL);
}

void df_bench_alloc_reset(void) {
  atomic_store(&n_allocs, 0);
  atomic_store(&n_reallocs, 0);
  atomic_store(&n_frees, 0);
  atomic_store(&n_bytes, 0);
  atomic_store(&n_live, 0);
}

df_bench_alloc_stats df_bench_alloc_read(void) {
  df_bench_alloc_stats s;
  s.allocs = atomic_load(&n_allocs);
  s.reallocs = atomic_load(&n_reallocs);
  s.frees = atomic_load(&n_frees);
  s.bytes = atomic_load(&n_bytes);
  s.live_bytes = atomic_load(&n_live);
  return s;
}

int df_bench_run_child(char *const argv[], const char *env_name,
                       const char *env_value, char *out, size_t size) {
  int fds[2];
  if (size == 0 || pipe(fds) != 0)
    return -1;
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (env_name != NULL)
      setenv(env_name, env_value, 1);
    execv(argv[0], argv);
    _exit(127);
  }
  close(fds[1]);
  size_t used = 0;
  while (used < size - 1) {
    ssize_t got = read(fds[0], out + used, size - 1 - used);
    if (got > 0)
      used += (size_t)got;
    else if (got == 0 || errno != EINTR)
      break;
  }
  out[used] = '\0';
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
