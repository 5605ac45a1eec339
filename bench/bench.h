/*! \file bench.h
 *  \brief What every deferred-bench subcommand shares: its options, a
 *  monotonic clock, medians and percentiles, a small JSON writer, a counting
 *  allocator and a budget table.
 *
 *  A subcommand is a function
 *  \code
 *  int df_bench_NAME(int argc, char **argv, const df_bench_opts *o);
 *  \endcode
 *  called with argv[0] set to its own name and the arguments that followed
 *  it on the command line (argc == 1 when run by `all`). It prints a
 *  human-readable report on stdout, records its numbers with the
 *  df_bench_json_*() functions (they do nothing when o->json is NULL), and
 *  returns 0, or non-zero when something failed (a missed budget is not a
 *  failure: budgets are informational).
 *
 *  The helpers are for the benchmark only; none of them is part of the
 *  library. Everything here is called from the main thread unless said
 *  otherwise.
 */
#ifndef DF_BENCH_H
#define DF_BENCH_H

#include <stdbool.h>
#include <stddef.h>

#include <deferred/alloc.h>
#include <stdint.h>

/*! The machine-readable sink: one JSON document per run. Opaque. */
typedef struct df_bench_json df_bench_json;

/*! Whether a subcommand that can count instructions by re-running itself
 *  under valgrind (callgrind) does so. */
typedef enum df_bench_callgrind {
  DF_BENCH_CALLGRIND_DEFAULT = 0, /*!< yes in a full run, no with --quick */
  DF_BENCH_CALLGRIND_ON,          /*!< --callgrind */
  DF_BENCH_CALLGRIND_OFF          /*!< --no-callgrind */
} df_bench_callgrind;

/*! Options common to every subcommand, filled in by main(). */
typedef struct df_bench_opts {
  bool quick;          /*!< smoke run: small N and few repetitions */
  df_bench_json *json; /*!< where results go; NULL when --json was not given */
  const char *self;    /*!< argv[0] of the program, for messages */
  df_bench_callgrind callgrind; /*!< instruction counts under valgrind */
} df_bench_opts;

/* ---------------------------------------------------------------- subcommands */

/*! \brief `chain`: callback-chain throughput, allocations, Twisted baseline. */
int df_bench_chain(int argc, char **argv, const df_bench_opts *o);

#ifdef DF_BENCH_HAVE_POOL
/*! \brief `pool`: thread-pool round trips (libuv baseline where built). */
int df_bench_pool(int argc, char **argv, const df_bench_opts *o);
#endif

#ifdef DF_BENCH_HAVE_POOL
/*! \brief `trace`: the cost of a running trace per pool job. */
int df_bench_trace(int argc, char **argv, const df_bench_opts *o);
#endif

#ifdef DF_BENCH_HAVE_DNS
/*! \brief `dns`: resolver round trips. */
int df_bench_dns(int argc, char **argv, const df_bench_opts *o);
#endif

/* ---------------------------------------------------------------- time */

/*! Nanoseconds on the monotonic clock (CLOCK_MONOTONIC); thread-safe. */
/* Runs argv[0] (with env_name=env_value in its environment when env_name is
 * not NULL), reads its stdout into out (NUL-ended, cut at size - 1) and
 * returns its exit status, or -1 when it could not run or was killed. */
int df_bench_run_child(char *const argv[], const char *env_name,
                       const char *env_value, char *out, size_t size);

uint64_t df_bench_now_ns(void);

/* programs.c. This program's path, for re-running itself as a child; false
 * when it cannot be read. */
bool df_bench_self_path(char *buf, size_t size);

/* The valgrind on PATH, or NULL. */
const char *df_bench_find_valgrind(void);

/* $TMPDIR, or /tmp. */
const char *df_bench_temp_dir(void);

/* The instruction total of a callgrind output file (its "summary:" line, or
 * "totals:"), or -1. */
double df_bench_callgrind_total(const char *file);

/*! \brief Nanoseconds of CPU time used by the calling thread
 *  (CLOCK_THREAD_CPUTIME_ID). For single-threaded loops on a shared
 *  machine: time the thread spent preempted does not count, so the figure
 *  stays close to what an idle machine would show. */
uint64_t df_bench_thread_cpu_ns(void);

/*! \brief Sorts \p v (n values) in place and returns the value at fraction
 *  \p p (0.0 = minimum, 0.5 = median, 1.0 = maximum), interpolating
 *  linearly between neighbours. n == 0 gives 0. */
double df_bench_percentile(double *v, size_t n, double p);

/*! df_bench_percentile(v, n, 0.5). Sorts \p v in place. */
double df_bench_median(double *v, size_t n);

/*! \brief Makes \p word observable, so the compiler cannot drop the work that
 *  computed it. Thread-safe (a relaxed store). */
void df_bench_consume(uintptr_t word);

/* ---------------------------------------------------------------- JSON */

/*! \brief Creates \p path and writes the opening of the document.
 *  \return the writer, or NULL (errno set) when the file cannot be opened. */
df_bench_json *df_bench_json_open(const char *path);

/*! \brief Closes the document and the file; NULL is a no-op.
 *  \return 0, or -1 when a write failed (the file is incomplete). */
int df_bench_json_close(df_bench_json *j);

/*! \brief Records one number: {"bench", "name", "value", "unit"}.
 *  \p unit may be NULL. NULL \p j: nothing. */
void df_bench_json_metric(df_bench_json *j, const char *bench, const char *name,
                          double value, const char *unit);

/*! \brief Records one string: {"bench", "name", "text"}. NULL \p j:
 *  nothing. */
void df_bench_json_text(df_bench_json *j, const char *bench, const char *name,
                        const char *text);

/* ---------------------------------------------------------------- budgets */

/*! One line of a budget table: "measured <= limit" or "measured >= limit". */
typedef struct df_bench_budget {
  const char *what; /*!< e.g. "ns per callback, N = 100" */
  double measured;  /*!< negative: not measured (printed as n/a, SKIP) */
  double limit;
  bool at_least;    /*!< false: measured <= limit; true: measured >= limit */
  const char *unit; /*!< e.g. "ns", "x", "allocs"; may be NULL */
} df_bench_budget;

/*! \brief Prints \p n budget lines as a table with a PASS/MISS/SKIP column
 *  and records each in the JSON sink ({"bench", "budget", "value", "limit",
 *  "op", "unit", "pass"}). \return the number of MISS lines (informational:
 *  the caller does not turn it into an exit code). */
int df_bench_print_budgets(const df_bench_opts *o, const char *bench,
                           const df_bench_budget *rows, size_t n);

/* ---------------------------------------------------------------- allocator */

/*! What the counting allocator saw since df_bench_alloc_install() or the last
 *  df_bench_alloc_reset(). */
typedef struct df_bench_alloc_stats {
  uint64_t allocs;    /*!< blocks made: malloc, realloc of NULL */
  uint64_t reallocs;  /*!< blocks resized: realloc of a live block */
  uint64_t frees;     /*!< blocks freed: free of non-NULL, realloc to 0 */
  uint64_t bytes;     /*!< bytes requested by malloc and realloc calls */
  int64_t live_bytes; /*!< requested bytes currently allocated (net) */
} df_bench_alloc_stats;

/*! \brief Routes the library's allocations through a counting allocator
 *  (df_replace_allocator). Call it while the library holds no memory.
 *  The counters are atomic, so worker threads may allocate meanwhile.
 *  \return 0, or the negative code df_replace_allocator() gave. */
int df_bench_alloc_install(void);

/*! Restores the C library's allocator. Same restriction as install. */
void df_bench_alloc_uninstall(void);

/*! Zeroes the counters (live_bytes included). */
void df_bench_alloc_reset(void);

/*! The counters now. */
df_bench_alloc_stats df_bench_alloc_read(void);

#endif /* DF_BENCH_H */
