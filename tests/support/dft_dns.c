/* The frame of the DNS and connect suites; see dft_dns.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_dns.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dft_alloc.h"
#include "dft_dnsmasq.h"
#include "dft_failure.h"
#include "dft_runner.h"

/* ------------------------------------------------------------ suite */

static dft_dnsmasq dns;

static int suite_init(void) { return dft_dnsmasq_start(&dns) == 0 ? 0 : 1; }

static int suite_cleanup(void) {
  dft_dnsmasq_stop(&dns);
  return 0;
}

int dft_dns_main(const char *suite, CU_TestInfo *tests) {
  if (dft_alloc_install() != 0) {
    fprintf(stderr, "%s: cannot install the counting allocator\n", suite);
    return 1;
  }
  return dft_run(suite, tests, suite_init, suite_cleanup, NULL, NULL);
}

const char *dft_dns_servers(void) { return dns.servers; }

/* ------------------------------------------------------------ objects */

df_resolver *dft_resolver(df_reactor *r, const df_resolver_options *o) {
  df_resolver *res = NULL;
  CU_ASSERT_EQUAL_FATAL(df_resolver_new(&res, r, o), 0);
  return res;
}

struct df_resolver_stats dft_resolver_stats(const df_resolver *res) {
  struct df_resolver_stats st;
  memset(&st, 0, sizeof st);
  CU_ASSERT_EQUAL(df_resolver_stats(res, &st), 0);
  return st;
}

int dft_dns_teardown(df_reactor *r, df_resolver *res) {
  df_resolver_free(res);
  return df_reactor_free(r);
}

/* ------------------------------------------------------------ outcomes */

static df_result record(df_result in, void *arg) {
  dft_outcome *o = arg;
  o->fired++;
  if (df_result_is_failure(in)) {
    o->ok = false;
    dft_note_failure(df_result_failure(in), &o->type, &o->code, o->message,
                     sizeof o->message);
    df_result_free(in);
  } else {
    o->ok = true;
    df_result_free(o->value);
    o->value = in;
  }
  return df_ok(NULL, NULL);
}

void dft_capture(df_deferred *d, dft_outcome *o) {
  o->value = df_ok(NULL, NULL);
  df_add_both(d, record, o);
  df_unref(d);
}

void dft_outcome_clear(dft_outcome *o) {
  df_result_free(o->value);
  memset(o, 0, sizeof *o);
  o->value = df_ok(NULL, NULL);
}

void dft_expect_invalid(df_deferred *d, const char *names) {
  dft_outcome o = {0};
  dft_capture(d, &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, names));
  dft_outcome_clear(&o);
}

/* ------------------------------------------------------------ running */

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool dft_run_until_true(df_reactor *r, dft_cond cond, const void *arg,
                        double limit) {
  double end = wall() + limit;
  while (!cond(arg) && wall() < end) {
    df_reactor_run_once(r, 10);
  }
  return cond(arg);
}

static bool flag_set(const void *flag) { return *(const int *)flag != 0; }

bool dft_run_until(df_reactor *r, const int *flag, double limit) {
  return dft_run_until_true(r, flag_set, flag, limit);
}

static bool nothing_pending(const void *res) {
  struct df_resolver_stats st;
  return df_resolver_stats(res, &st) == 0 && st.pending == 0;
}

bool dft_drain_resolver(df_reactor *r, df_resolver *res, double limit) {
  return dft_run_until_true(r, nothing_pending, res, limit);
}
