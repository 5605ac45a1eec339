/* df_result constructors; shared values live in shared.c. */

#include "deferred/deferred.h"
#include "deferred/result.h"
#include "internal.h"
#include "shared.h"

df_result df_ok_shared(void *value, df_retain_fn retain, df_free_fn release) {
  if (value == NULL || retain == NULL || release == NULL)
    return df_ok(value, release);
  return df__share_counted(value, retain, release);
}

df_retain_fn df_result_retain(df_result r) {
  return r.free == df__share_release ? df__share_retain : NULL;
}

df_free_fn df_result_release_fn(df_result r) {
  return r.free == df__share_release ? df__share_free_fn(r.ptr) : r.free;
}

df_result df_fail(df_failure *f) {
  if (f == NULL)
    f = df_failure_new(&DF_INVALID_ARGUMENT, 0, "df_fail: failure is NULL");
  return (df_result){f, df_failure_release};
}

df_result df_wait(df_deferred *d) {
  if (d == NULL)
    return df_fail(
        df_failure_new(&DF_INVALID_ARGUMENT, 0, "df_wait: deferred is NULL"));
  return (df_result){df_ref(d), df_deferred_release};
}

void df_failure_release(void *failure) { df_failure_unref(failure); }

void df_deferred_release(void *deferred) { df_unref(deferred); }
