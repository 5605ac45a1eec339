/* Steps the core suites add to chains again and again. */
#include <stdio.h>
#include <string.h>

#include "dft.h"

df_result dft_cb_trace(df_result in, void *arg) {
  char buf[512];
  dft_trace("%s=%s", (const char *)arg, dft_repr(in, buf, sizeof buf));
  return in;
}

df_result dft_cb_trace_type(df_result in, void *arg) {
  char buf[512];
  if (df_result_kind(in) == DF_FAILURE) {
    const df_error_type *t = df_failure_type(df_result_failure(in));
    dft_trace("%s=<%s>", (const char *)arg, t != NULL ? t->name : "?");
  } else {
    dft_trace("%s=%s", (const char *)arg, dft_repr(in, buf, sizeof buf));
  }
  return in;
}

df_result dft_cb_append(df_result in, void *arg) {
  char buf[512];
  if (df_result_kind(in) != DF_VALUE)
    return in;
  snprintf(buf, sizeof buf, "%s%s",
           in.ptr != NULL ? (const char *)in.ptr : "None", (const char *)arg);
  df_result_free(in);
  return df_ok(dft_str(buf), dft_str_free);
}

df_result dft_cb_fail(df_result in, void *arg) {
  df_result_free(in);
  return dft_failure(&DFT_RUNTIME_ERROR, arg != NULL ? (const char *)arg : "");
}

df_result dft_cb_value(df_result in, void *arg) {
  df_result_free(in);
  if (arg == NULL)
    return df_ok(NULL, NULL);
  return df_ok(dft_str(arg), dft_str_free);
}

df_result dft_cb_wait(df_result in, void *arg) {
  df_result_free(in);
  return df_wait(arg);
}

df_result dft_cb_none(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

bool dft_peek_is_value(const df_deferred *d, const char *text) {
  df_result r;
  if (!df_peek(d, &r) || df_result_kind(r) != DF_VALUE || r.ptr == NULL)
    return false;
  const char *s = df_result_release_fn(r) == dft_shared_release
                      ? ((const dft_shared *)r.ptr)->text
                      : (const char *)r.ptr;
  return strcmp(s, text) == 0;
}

bool dft_peek_is_none(const df_deferred *d) {
  df_result r;
  return df_peek(d, &r) && df_result_kind(r) == DF_VALUE && r.ptr == NULL;
}

bool dft_peek_is_failure(const df_deferred *d, const df_error_type *type) {
  df_result r;
  return df_peek(d, &r) && df_result_kind(r) == DF_FAILURE &&
         df_failure_type(r.ptr) == type;
}

void dft_release_failed(df_deferred *d, const df_error_type *type) {
  CU_ASSERT(dft_peek_is_failure(d, type));
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
}
