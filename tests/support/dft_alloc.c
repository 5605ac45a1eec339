#include "dft_alloc.h"

#include <deferred/alloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

/* Atomics because a failure may be released on another thread than the one
 * that made it; the suites themselves run one thread at a time. */
static atomic_long outstanding;
static atomic_long calls;
static atomic_long failures;
static atomic_long fail_at;   /* 0: never */
static atomic_bool fail_rest; /* fail every call from fail_at on */
static atomic_bool paused;    /* calls pass uncounted and never fail */

static bool should_fail(void) {
  if (atomic_load(&paused))
    return false;
  long n = atomic_fetch_add(&calls, 1) + 1;
  long at = atomic_load(&fail_at);
  if (at == 0)
    return false;
  if (n == at || (atomic_load(&fail_rest) && n > at)) {
    atomic_fetch_add(&failures, 1);
    return true;
  }
  return false;
}

static void *counting_malloc(size_t size) {
  if (should_fail())
    return NULL;
  void *p = malloc(size == 0 ? 1 : size);
  if (p != NULL)
    atomic_fetch_add(&outstanding, 1);
  return p;
}

static void *counting_realloc(void *old, size_t size) {
  if (should_fail())
    return NULL;
  void *p = realloc(old, size == 0 ? 1 : size);
  if (p != NULL && old == NULL)
    atomic_fetch_add(&outstanding, 1);
  return p;
}

static void counting_free(void *p) {
  if (p != NULL)
    atomic_fetch_sub(&outstanding, 1);
  free(p);
}

int dft_alloc_install(void) {
  return df_replace_allocator(counting_malloc, counting_realloc, counting_free);
}

void dft_alloc_uninstall(void) { (void)df_replace_allocator(NULL, NULL, NULL); }

long dft_alloc_outstanding(void) { return atomic_load(&outstanding); }

long dft_alloc_calls(void) { return atomic_load(&calls); }

long dft_alloc_failures(void) { return atomic_load(&failures); }

static void arm(long n, bool rest) {
  atomic_store(&fail_at, 0);
  atomic_store(&calls, 0);
  atomic_store(&failures, 0);
  atomic_store(&fail_rest, rest);
  atomic_store(&fail_at, n);
}

void dft_alloc_fail_nth(long n) { arm(n, false); }

void dft_alloc_fail_from(long n) { arm(n, true); }

void dft_alloc_fail_none(void) { arm(0, false); }

void dft_alloc_pause(void) { atomic_store(&paused, true); }

void dft_alloc_resume(void) { atomic_store(&paused, false); }
