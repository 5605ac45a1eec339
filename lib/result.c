/* df_result constructors, and the registry that makes shared values
 * recognisable by their release function alone. */
#include <stdatomic.h>

#include "deferred/deferred.h"
#include "deferred/result.h"
#include "internal.h"

#define SHARED_PAIRS 64

/* Append-only: an entry is written before the count that publishes it, so
 * lookups need no lock; registrations take a spin flag. */
static struct {
  df_free_fn release;
  df_retain_fn retain;
} shared[SHARED_PAIRS];
static atomic_uint shared_count;
static atomic_flag shared_lock = ATOMIC_FLAG_INIT;

static df_retain_fn lookup_retain(df_free_fn release, unsigned count) {
  for (unsigned i = 0; i < count; i++)
    if (shared[i].release == release)
      return shared[i].retain;
  return NULL;
}

static void remember_pair(df_retain_fn retain, df_free_fn release) {
  while (atomic_flag_test_and_set_explicit(&shared_lock, memory_order_acquire))
    ;
  unsigned count = atomic_load_explicit(&shared_count, memory_order_relaxed);
  if (lookup_retain(release, count) == NULL && count < SHARED_PAIRS) {
    shared[count].release = release;
    shared[count].retain = retain;
    atomic_store_explicit(&shared_count, count + 1, memory_order_release);
  }
  atomic_flag_clear_explicit(&shared_lock, memory_order_release);
}

df_result df_ok_shared(void *value, df_retain_fn retain, df_free_fn release) {
  if (retain != NULL && release != NULL &&
      df_result_retain(df_ok(value, release)) == NULL)
    remember_pair(retain, release);
  return df_ok(value, release);
}

df_retain_fn df_result_retain(df_result r) {
  if (r.free == NULL)
    return NULL;
  unsigned count = atomic_load_explicit(&shared_count, memory_order_acquire);
  return lookup_retain(r.free, count);
}

df_result df_fail(df_failure *f) {
  if (f == NULL)
    f = df_failure_new(&DF_INVALID_ARGUMENT, 0, "df_fail: failure is NULL");
  return (df_result){f, df_failure_release};
}

df_result df_wait(df_deferred *d) {
  if (d == NULL)
    return df_fail(df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                  "df_wait: deferred is NULL"));
  return (df_result){df_ref(d), df_deferred_release};
}

void df_failure_release(void *failure) { df_failure_unref(failure); }

void df_deferred_release(void *deferred) { df_unref(deferred); }
