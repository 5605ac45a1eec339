/* The floors the chain benchmark compares the library with: the same
 * workload (create, add N callbacks, fire, release) written the simplest
 * ways a C programmer would, with the same callback type. */
#ifndef DF_BENCH_CHAIN_FLOORS_H
#define DF_BENCH_CHAIN_FLOORS_H

#include <stddef.h>
#include <stdint.h>

#include <deferred/deferred.h>

/* The trivial callback every variant runs: one step further (the value
 * that reaches the end of a chain proves every callback ran). */
df_result df_bench_count_cb(df_result in, void *arg);

/* One Deferred with n callbacks, created, fired and released; adds the
 * callbacks that ran to *counter. \return 0, or -1 without memory. */
typedef int (*df_bench_chain_fn)(size_t n, uint64_t *counter);

/* A growable array of (function, argument) steps, doubled with realloc. */
int df_bench_floor_array(size_t n, uint64_t *counter);
/* A malloc'd node per step in a linked list (a minimal classic Deferred). */
int df_bench_floor_malloc(size_t n, uint64_t *counter);
/* Just the indirect calls over a prepared table: no Deferred at all.
 * df_bench_floor_calls_prepare(max_n) first; \return 0 or -1. */
int df_bench_floor_calls_prepare(size_t max_n);
int df_bench_floor_calls(size_t n, uint64_t *counter);

#endif
