/* df_result constructors and destructor that need more than an initializer. */
#include "deferred/result.h"
#include "deferred/deferred.h"
#include "internal.h"

df_result df_fail(df_failure *f) {
  if (f == NULL)
    f = df_failure_new(&DF_INVALID_ARGUMENT, 0, "df_fail: failure is NULL");
  df_result r = {DF_FAILURE, f, NULL, NULL};
  return r;
}

df_result df_wait(df_deferred *d) {
  if (d == NULL)
    return df_fail(df_failure_new(&DF_INVALID_ARGUMENT, 0,
                                  "df_wait: deferred is NULL"));
  df_result r = {DF_DEFERRED, df_ref(d), NULL, NULL};
  return r;
}

void df_result_free(df_result r) {
  switch (r.kind) {
  case DF_VALUE:
    if (r.free != NULL)
      r.free(r.ptr);
    break;
  case DF_FAILURE:
    df_failure_unref(r.ptr);
    break;
  case DF_DEFERRED:
    df_unref(r.ptr);
    break;
  }
}
