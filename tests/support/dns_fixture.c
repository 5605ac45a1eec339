/* Recording Deferred outcomes and bounded reactor runs; see dns_fixture.h. */
#define _POSIX_C_SOURCE 200809L

#include "dns_fixture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static df_result record(df_result in, void *arg) {
  df_test_outcome *o = arg;
  o->fired++;
  if (df_result_is_failure(in)) {
    const df_failure *f = df_result_failure(in);
    o->ok = false;
    o->type = df_failure_type(f);
    o->code = df_failure_code(f);
    snprintf(o->message, sizeof o->message, "%s", df_failure_message(f));
    df_result_free(in);
  } else {
    o->ok = true;
    df_result_free(o->value);
    o->value = in;
  }
  return df_ok(NULL, NULL);
}

void df_test_capture(df_deferred *d, df_test_outcome *o) {
  o->value = df_ok(NULL, NULL);
  df_add_both(d, record, o);
  df_unref(d);
}

void df_test_outcome_clear(df_test_outcome *o) {
  df_result_free(o->value);
  memset(o, 0, sizeof *o);
  o->value = df_ok(NULL, NULL);
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool df_test_run_until(df_reactor *r, const int *flag, double limit) {
  double end = wall() + limit;
  while (*flag == 0 && wall() < end) {
    df_reactor_run_once(r, 10);
  }
  return *flag != 0;
}

void df_test_run_for(df_reactor *r, double seconds) {
  double end = wall() + seconds;
  while (wall() < end) {
    df_reactor_run_once(r, 5);
  }
}

bool df_test_drain_resolver(df_reactor *r, df_resolver *res, double limit) {
  double end = wall() + limit;
  df_resolver_stats st;
  while (df_resolver_stats_get(res, &st) == 0 && st.pending > 0 &&
         wall() < end) {
    df_reactor_run_once(r, 10);
  }
  return df_resolver_stats_get(res, &st) == 0 && st.pending == 0;
}

int df_test_teardown(df_reactor *r, df_resolver *res) {
  df_resolver_free(res);
  /* Timers the resolver cancelled may need one round to be released. */
  df_reactor_run_once(r, 0);
  return df_reactor_free(r);
}
