/* Instruction counts for the pool benchmark: this program runs one suite in
 * a child under `valgrind --tool=callgrind` (every thread counted in one
 * total: --separate-threads=no is callgrind's default), and the total is
 * read from the "summary:" (or "totals:") line of the output file. The
 * caller runs two sizes and divides the difference by the difference in
 * jobs, so start-up, thread creation and exit cancel out. Callgrind runs
 * the threads one at a time, so the count is of work done, not of time. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "pool_bench.h"

double pool_callgrind_instructions(const char *valgrind, const char *impl,
                                   const pool_suite *s) {
  char self[4096];
  if (!df_bench_self_path(self, sizeof self))
    return -1.0;
  char out_file[4200];
  char out_opt[4300];
  snprintf(out_file, sizeof out_file, "%s/deferred-bench-callgrind.%ld.out",
           df_bench_temp_dir(), (long)getpid());
  snprintf(out_opt, sizeof out_opt, "--callgrind-out-file=%s", out_file);

  char buf[POOL_SUITE_FIELDS][24];
  char *argv[POOL_SUITE_FIELDS + 10];
  argv[0] = (char *)valgrind;
  argv[1] = (char *)"--tool=callgrind";
  argv[2] = (char *)"-q";
  argv[3] = out_opt;
  argv[4] = self;
  pool_suite_to_argv(impl, s, argv + 5, buf);

  char threads[24];
  char output[4096];
  snprintf(threads, sizeof threads, "%u", s->threads);
  int status = df_bench_run_child(argv, "UV_THREADPOOL_SIZE", threads, output,
                                  sizeof output);
  pool_figures ignored;
  double total = -1.0;
  if (status == 0 && pool_figures_parse(output, &ignored) == 0)
    total = df_bench_callgrind_total(out_file);
  unlink(out_file);
  return total;
}
