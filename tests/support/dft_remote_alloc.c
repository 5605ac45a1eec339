/* The remote suites' failing allocator; see dft_remote_alloc.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_remote_alloc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <deferred/alloc.h>

enum { MODE_NONE, MODE_OFF_THREAD, MODE_NTH_HERE };

/* Under one lock: the library allocates from several threads while the
 * test arms and disarms. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int mode;
static pthread_t armed_by;
static long here_calls;
static long here_nth;
static long failures;

static bool should_fail(void) {
  pthread_mutex_lock(&lock);
  bool fail = false;
  if (mode != MODE_NONE) {
    bool here = pthread_equal(pthread_self(), armed_by);
    fail = mode == MODE_OFF_THREAD ? !here : here && ++here_calls == here_nth;
  }
  if (fail) {
    failures++;
  }
  pthread_mutex_unlock(&lock);
  return fail;
}

static void *ralloc_malloc(size_t size) {
  return should_fail() ? NULL : malloc(size);
}

static void *ralloc_realloc(void *p, size_t size) {
  return should_fail() ? NULL : realloc(p, size);
}

int dft_ralloc_install(void) {
  return df_replace_allocator(ralloc_malloc, ralloc_realloc, free);
}

static void arm(int m, long nth) {
  pthread_mutex_lock(&lock);
  mode = m;
  armed_by = pthread_self();
  here_nth = nth;
  here_calls = 0;
  failures = 0;
  pthread_mutex_unlock(&lock);
}

void dft_ralloc_fail_off_thread(void) { arm(MODE_OFF_THREAD, 0); }

void dft_ralloc_fail_nth_here(long n) { arm(MODE_NTH_HERE, n); }

void dft_ralloc_fail_none(void) {
  pthread_mutex_lock(&lock);
  mode = MODE_NONE;
  pthread_mutex_unlock(&lock);
}

long dft_ralloc_failures(void) {
  pthread_mutex_lock(&lock);
  long n = failures;
  pthread_mutex_unlock(&lock);
  return n;
}
