/* S29: deferLater (df_sleep) and addTimeout (df_add_timeout), every rule of
 * TWISTED-RULES R11, on a manual clock like Twisted's task.Clock. The test
 * names follow twisted/test/test_defer.py where a test exists there. */
#include <CUnit/CUnit.h>
#include <deferred.h>
#include <math.h>
#include <string.h>

#include "dft.h"
#include "dft_reactor.h"

/* ------------------------------------------------------------ helpers */

/* Traces the result reaching this point as "tag=repr", then handles it, so
 * releasing the Deferred reports nothing. */
static void trace_end(df_deferred *d, const char *tag) {
  df_add_both(d, dft_cb_trace, DFT_S(tag));
  df_add_errback(d, dft_cb_none, NULL);
}

/* Twisted's _overrideFunc: records what it got, returns "OVERRIDDEN". */
static df_result override(df_result in, double seconds, void *arg) {
  char buf[256];
  (void)seconds;
  dft_trace("%s=%s", (const char *)arg, dft_repr(in, buf, sizeof buf));
  df_result_free(in);
  return df_ok(dft_str("OVERRIDDEN"), dft_str_free);
}

/* A canceller that fires the Deferred with a value (arg: the text). */
static void cancel_with_value(df_deferred *d, void *arg) {
  dft_trace("canceller");
  df_callback(d, dft_str(arg), dft_str_free);
}

/* A canceller that fails the Deferred with a ValueError. */
static void cancel_with_value_error(df_deferred *d, void *arg) {
  (void)arg;
  dft_trace("canceller");
  df_fire(d, dft_failure(&DFT_VALUE_ERROR, "from canceller"));
}

/* An errback that records and raises a ValueError (R11.3). */
static df_result raise_value_error(df_result in, void *arg) {
  char buf[256];
  dft_trace("%s=%s", (const char *)arg, dft_repr(in, buf, sizeof buf));
  df_result_free(in);
  return dft_failure(&DFT_VALUE_ERROR, "raised");
}

/* ------------------------------------------------------------ df_sleep */

static void test_s29_sleep_fires_with_none_after_delay(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_sleep(r, 2.0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  trace_end(d, "r");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.999), 0);
  CU_ASSERT_FALSE(df_called(d));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 0.001), 0);
  CU_ASSERT_TRUE(df_called(d));
  CU_ASSERT_TRUE(dft_trace_equals("r=None"));
  df_unref(d);
  dft_reactor_end(r);
}

static void test_s29_sleep_cancel_cancels_the_timer(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_sleep(r, 2.0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  trace_end(d, "r");
  df_cancel(d);
  CU_ASSERT_TRUE(dft_trace_equals("r=<Cancelled>"));
  /* The timer is gone: the reactor has nothing live, advancing fires nothing. */
  CU_ASSERT_EQUAL(df_reactor_advance(r, 5.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("r=<Cancelled>"));
  df_unref(d);
  dft_reactor_end(r);
}

/* The timer holds its own reference: callbacks run after the caller let go. */
static void test_s29_sleep_runs_callbacks_after_caller_released(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_sleep(r, 1.0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  trace_end(d, "r");
  df_unref(d);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("r=None"));
  dft_reactor_end(r);
}

static void test_s29_sleep_bad_arguments_fail_the_deferred(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_sleep(NULL, 1.0);
  CU_ASSERT_TRUE(dft_peek_is_failure(d, &DF_INVALID_ARGUMENT));
  trace_end(d, "null");
  df_unref(d);
  d = df_sleep(r, -1.0);
  CU_ASSERT_TRUE(dft_peek_is_failure(d, &DF_INVALID_ARGUMENT));
  trace_end(d, "negative");
  df_unref(d);
  d = df_sleep(r, NAN);
  CU_ASSERT_TRUE(dft_peek_is_failure(d, &DF_INVALID_ARGUMENT));
  trace_end(d, "nan");
  df_unref(d);
  CU_ASSERT_PTR_NOT_NULL(strstr(dft_trace_text(), "r is NULL"));
  CU_ASSERT_PTR_NOT_NULL(strstr(dft_trace_text(), "seconds is -1"));
  dft_reactor_end(r);
}

/* Out of memory at each allocation of df_sleep: NULL, no timer left armed,
 * nothing leaks (dft_end checks the allocator). */
static void test_s29_sleep_out_of_memory(void) {
  dft_begin();
  for (long n = 1; n <= 8; n++) {
    df_reactor *r = dft_reactor_new(true);
    dft_alloc_fail_nth(n);
    df_deferred *d = df_sleep(r, 1.0);
    bool failed = dft_alloc_failures() > 0;
    dft_alloc_fail_none();
    CU_ASSERT_EQUAL(d == NULL, failed);
    if (d != NULL) {
      trace_end(d, "r");
      CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
      CU_ASSERT_TRUE(df_called(d));
      df_unref(d);
    }
    CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  }
  dft_end();
}

/* ------------------------------------------------------------ R11.1 */

static void test_s29_r11_1_timeout_chainable(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_EQUAL(df_add_timeout(d, r, 10.0), d);
  trace_end(d, "r");
  df_callback(d, dft_str("Hello"), dft_str_free);
  CU_ASSERT_TRUE(dft_trace_equals("r='Hello'"));
  df_unref(d);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ R11.2 */

static void test_s29_r11_2_timed_out(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 10.0);
  df_add_errback(d, dft_cb_trace, DFT_S("r"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 9.0), 0);
  CU_ASSERT_FALSE(df_called(d));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0); /* now >= deadline */
  CU_ASSERT_TRUE(
      dft_trace_equals("r=<Timeout: Deferred timed out after 10 seconds>"));
  CU_ASSERT_TRUE(dft_peek_is_failure(d, &DF_TIMEOUT));
  df_result res;
  CU_ASSERT_TRUE_FATAL(df_peek(d, &res));
  CU_ASSERT_EQUAL(df_failure_code(df_result_failure(res)), 10000);
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
  dft_reactor_end(r);
}

static void test_s29_r11_2_timeout_code_is_milliseconds(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 1.5);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.5), 0);
  df_result res;
  CU_ASSERT_TRUE_FATAL(df_peek(d, &res));
  CU_ASSERT_EQUAL(df_failure_code(df_result_failure(res)), 1500);
  CU_ASSERT_PTR_NOT_NULL(
      strstr(df_failure_message(df_result_failure(res)), "1.5 seconds"));
  df_add_errback(d, dft_cb_none, NULL);
  df_unref(d);
  dft_reactor_end(r);
}

/* Two timeouts: the first to expire cancels; its converter translates, the
 * other converter passes the Timeout through unchanged. */
static void test_s29_r11_2_two_timeouts_first_to_expire_wins(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 20.0);
  df_add_both(d, dft_cb_trace, DFT_S("after20"));
  df_add_timeout(d, r, 5.0);
  trace_end(d, "r");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 30.0), 0);
  CU_ASSERT_TRUE(
      dft_trace_equals("after20=<Cancelled> "
                       "r=<Timeout: Deferred timed out after 5 seconds>"));
  df_unref(d);
  dft_reactor_end(r);
}

/* Several Deferreds: their timers fire in deadline order. */
static void test_s29_r11_2_timers_fire_in_deadline_order(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_deferred *c = df_deferred_new(NULL, NULL);
  df_add_timeout(a, r, 3.0);
  df_add_timeout(b, r, 1.0);
  df_add_timeout(c, r, 2.0);
  trace_end(a, "a");
  trace_end(b, "b");
  trace_end(c, "c");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 3.0), 0);
  CU_ASSERT_TRUE(
      dft_trace_equals("b=<Timeout: Deferred timed out after 1 seconds> "
                       "c=<Timeout: Deferred timed out after 2 seconds> "
                       "a=<Timeout: Deferred timed out after 3 seconds>"));
  df_unref(a);
  df_unref(b);
  df_unref(c);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ R11.3-5 */

/* One step added before the timeout: df_add_callback or df_add_errback. */
typedef struct before_step {
  df_deferred *(*add)(df_deferred *d, df_callback_fn fn, void *arg);
  df_callback_fn fn;
  void *arg;
} before_step;

/* A Deferred that nothing fires, with an optional canceller, up to two
 * steps added before a 10 s timeout (custom when \c on_timeout is set),
 * and the tracing end; optionally cancelled by hand, then the clock passes
 * the deadline. */
typedef struct timeout_case {
  df_canceller_fn canceller;
  void *canceller_arg;
  before_step before[2];
  df_timeout_cancel_fn on_timeout;
  bool cancel_by_hand;
  const char *expected;
} timeout_case;

static void check_timeout(const timeout_case *c) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(c->canceller, c->canceller_arg);
  for (int i = 0; i < 2 && c->before[i].add != NULL; i++)
    c->before[i].add(d, c->before[i].fn, c->before[i].arg);
  df_deferred *armed =
      c->on_timeout != NULL
          ? df_add_timeout_full(d, r, 10.0, c->on_timeout, DFT_S("custom"))
          : df_add_timeout(d, r, 10.0);
  CU_ASSERT_PTR_EQUAL(armed, d);
  trace_end(d, "r");
  if (c->cancel_by_hand)
    df_cancel(d);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 15.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals(c->expected));
  df_unref(d);
  dft_reactor_end(r);
}

/* clang-format off */
#define ERRBACK_BEFORE(fn, arg) {df_add_errback, (fn), (arg)}
#define CALLBACK_BEFORE(fn, arg) {df_add_callback, (fn), (arg)}
/* clang-format on */

/* The errback saw the raw Cancelled; its ValueError is not translated. */
static void test_s29_r11_3_errback_added_before_timeout(void) {
  check_timeout(&(timeout_case){
      .before = {ERRBACK_BEFORE(raise_value_error, DFT_S("before"))},
      .expected = "before=<Cancelled> r=<ValueError: raised>"});
}

static void
test_s29_r11_3_errback_added_before_timeout_suppresses_cancellation(void) {
  check_timeout(
      &(timeout_case){.before = {ERRBACK_BEFORE(dft_cb_trace, DFT_S("before")),
                                 ERRBACK_BEFORE(dft_cb_none, NULL)},
                      .expected = "before=<Cancelled> r=None"});
}

static void test_s29_r11_4_timed_out_provided_cancel_success(void) {
  check_timeout(&(timeout_case){.canceller = cancel_with_value,
                                .canceller_arg = DFT_S("I was cancelled!"),
                                .expected = "canceller r='I was cancelled!'"});
}

static void test_s29_r11_4_timed_out_provided_cancel_failure(void) {
  check_timeout(
      &(timeout_case){.canceller = cancel_with_value_error,
                      .expected = "canceller r=<ValueError: from canceller>"});
}

static void test_s29_r11_4_callback_added_to_canceller_before_timeout(void) {
  check_timeout(&(timeout_case){
      .canceller = cancel_with_value,
      .canceller_arg = DFT_S("success"),
      .before = {CALLBACK_BEFORE(dft_cb_trace, DFT_S("before"))},
      .expected = "canceller before='success' r='success'"});
}

static void test_s29_r11_5_timed_out_custom(void) {
  check_timeout(&(timeout_case){
      .on_timeout = override, .expected = "custom=<Cancelled> r='OVERRIDDEN'"});
}

static void test_s29_r11_5_provided_cancel_called_before_timeout_custom(void) {
  check_timeout(&(timeout_case){.canceller = cancel_with_value,
                                .canceller_arg = DFT_S("I was cancelled!"),
                                .on_timeout = override,
                                .cancel_by_hand = true,
                                .expected = "canceller r='I was cancelled!'"});
}

static void test_s29_r11_5_errback_added_before_timeout_custom(void) {
  check_timeout(&(timeout_case){
      .before = {ERRBACK_BEFORE(raise_value_error, DFT_S("before"))},
      .on_timeout = override,
      .expected = "before=<Cancelled> custom=<ValueError: raised> "
                  "r='OVERRIDDEN'"});
}

static void
test_s29_r11_5_errback_before_timeout_suppresses_cancellation_custom(void) {
  check_timeout(&(timeout_case){.before = {ERRBACK_BEFORE(dft_cb_none, NULL)},
                                .on_timeout = override,
                                .expected = "custom=None r='OVERRIDDEN'"});
}

static void
test_s29_r11_5_callback_added_to_canceller_before_timeout_custom(void) {
  check_timeout(&(timeout_case){
      .canceller = cancel_with_value,
      .canceller_arg = DFT_S("success"),
      .before = {CALLBACK_BEFORE(dft_cb_trace, DFT_S("before"))},
      .on_timeout = override,
      .expected = "canceller before='success' custom='success' "
                  "r='OVERRIDDEN'"});
}

/* R11.5: onTimeoutCancel(result, timeout) gets the timeout in seconds as
 * it was given (Twisted passes addTimeout's own argument). */
static df_result on_timeout_seconds(df_result in, double seconds, void *arg) {
  char buf[256];
  dft_trace("%s=%s after %g s", (const char *)arg,
            dft_repr(in, buf, sizeof buf), seconds);
  df_result_free(in);
  return df_ok(dft_str("converted"), dft_str_free);
}

static void test_s29_r11_5_custom_gets_result_and_seconds(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_EQUAL(
      df_add_timeout_full(d, r, 2.5, on_timeout_seconds, DFT_S("custom")), d);
  trace_end(d, "r");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 2.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals(""));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(
      dft_trace_equals("custom=<Cancelled> after 2.5 s r='converted'"));
  df_unref(d);
  dft_reactor_end(r);
}

static void test_s29_r11_5_custom_gets_the_cancellers_value_and_seconds(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(cancel_with_value, DFT_S("from canceller"));
  df_add_timeout_full(d, r, 1.0, on_timeout_seconds, DFT_S("custom"));
  trace_end(d, "r");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals(
      "canceller custom='from canceller' after 1 s r='converted'"));
  df_unref(d);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ R11.6 */

static void check_disarmed_after_fire(df_timeout_cancel_fn on_timeout,
                                      bool fail) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout_full(d, r, 10.0, on_timeout, DFT_S("custom"));
  trace_end(d, "r");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 5.0), 0);
  if (fail)
    df_fire(d, dft_failure(&DFT_VALUE_ERROR, "early"));
  else
    df_callback(d, dft_str("Hello"), dft_str_free);
  /* Disarmed when the chain reached the second step: nothing is live. */
  CU_ASSERT_EQUAL(df_reactor_advance(r, 5.0), 0);
  CU_ASSERT_TRUE(
      dft_trace_equals(fail ? "r=<ValueError: early>" : "r='Hello'"));
  df_unref(d);
  dft_reactor_end(r);
}

static void test_s29_r11_6_success_result_before_timeout(void) {
  check_disarmed_after_fire(NULL, false);
}

static void test_s29_r11_6_success_result_before_timeout_custom(void) {
  check_disarmed_after_fire(override, false);
}

static void test_s29_r11_6_failure_before_timeout(void) {
  check_disarmed_after_fire(NULL, true);
}

static void test_s29_r11_6_failure_before_timeout_custom(void) {
  check_disarmed_after_fire(override, true);
}

static void check_cancel_before_timeout(df_timeout_cancel_fn on_timeout) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout_full(d, r, 10.0, on_timeout, DFT_S("custom"));
  trace_end(d, "r");
  df_cancel(d);
  /* A manual cancel keeps its Cancelled; the timer is disarmed. */
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_TRUE(dft_trace_equals("r=<Cancelled>"));
  df_unref(d);
  dft_end();
}

static void test_s29_r11_6_cancel_before_timeout(void) {
  check_cancel_before_timeout(NULL);
}

static void test_s29_r11_6_cancel_before_timeout_custom(void) {
  check_cancel_before_timeout(override);
}

static void test_s29_r11_6_timeout_on_fired_deferred_disarms_at_once(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_succeed(dft_str("done"), dft_str_free);
  CU_ASSERT_PTR_EQUAL(df_add_timeout_full(d, r, 10.0, override, NULL), d);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0); /* no timer left */
  CU_ASSERT_TRUE(dft_peek_is_value(d, "done"));
  CU_ASSERT_TRUE(dft_trace_equals(""));
  df_unref(d);
  dft_end();
}

/* After the disarm, a later advance does not cancel an inner Deferred that
 * a later callback made the chain wait on. */
static void test_s29_r11_6_no_cancel_of_later_inner_deferred(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 10.0);
  df_add_callback(d, dft_cb_wait, inner);
  trace_end(d, "r");
  df_callback(d, NULL, NULL);
  CU_ASSERT_TRUE(df_waiting(d));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 15.0), 0);
  CU_ASSERT_FALSE(df_called(inner));
  df_callback(inner, dft_str("inner"), dft_str_free);
  CU_ASSERT_TRUE(dft_trace_equals("r='inner'"));
  df_unref(inner);
  df_unref(d);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ R11.7 */

/* A callback added before the timeout returns an unfired inner Deferred:
 * the timer stays armed, cancel goes to the inner one, and its Cancelled
 * becomes a Timeout. */
static void test_s29_r11_7_timer_stays_armed_while_waiting_on_inner(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_wait, inner);
  df_add_timeout(d, r, 10.0);
  trace_end(d, "r");
  df_callback(d, NULL, NULL);
  CU_ASSERT_TRUE(df_waiting(d));
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY); /* still armed */
  CU_ASSERT_EQUAL(df_reactor_advance(r, 10.0), 0);
  CU_ASSERT_TRUE(df_called(inner));
  CU_ASSERT_TRUE(
      dft_trace_equals("r=<Timeout: Deferred timed out after 10 seconds>"));
  df_unref(inner);
  df_unref(d);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ R11.8 */

static void test_s29_r11_8_timed_out_swallows_one_late_fire(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 1.0);
  trace_end(d, "r");
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("late"), dft_str_free), 0);
  CU_ASSERT_EQUAL(df_callback(d, dft_str("later"), dft_str_free), DF_EALREADY);
  CU_ASSERT_TRUE(
      dft_trace_equals("r=<Timeout: Deferred timed out after 1 seconds>"));
  df_unref(d);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ ownership */

/* The caller lets go before the deadline: the timer's reference keeps the
 * Deferred alive, the timeout still fires, and the unhandled Timeout is
 * reported when the timer lets go. Nothing touches freed memory. */
static void test_s29_timeout_after_caller_released(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 1.0);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_PTR_EQUAL(dft_last_unhandled()->type, &DF_TIMEOUT);
  dft_reactor_end(r);
}

/* Released while paused, so the chain never reached the timeout's steps:
 * the steps' arguments are freed with the Deferred, nothing leaks (dft_end
 * checks the allocator). */
static void test_s29_timeout_steps_freed_with_paused_deferred(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_timeout(d, r, 1.0);
  df_add_timeout(d, r, 2.0);
  df_pause(d);
  df_callback(d, NULL, NULL); /* fired, but paused: the steps wait */
  CU_ASSERT_EQUAL(df_reactor_advance(r, 5.0), 0); /* timers fire, no-op */
  df_unref(d); /* the steps never ran: freed with the Deferred */
  dft_reactor_end(r);
}

static void test_s29_add_timeout_bad_arguments(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_NULL(df_add_timeout(NULL, r, 1.0));
  CU_ASSERT_PTR_NULL(df_add_timeout(d, NULL, 1.0));
  CU_ASSERT_PTR_NULL(df_add_timeout(d, r, -1.0));
  CU_ASSERT_PTR_NULL(df_add_timeout_full(d, r, NAN, override, NULL));
  CU_ASSERT_EQUAL(df_reactor_free(r), 0); /* nothing was armed */
  trace_end(d, "r");
  df_callback(d, dft_str("unchanged"), dft_str_free);
  CU_ASSERT_TRUE(dft_trace_equals("r='unchanged'"));
  df_unref(d);
  dft_end();
}

/* Out of memory at each allocation of df_add_timeout: NULL, nothing armed,
 * the Deferred still works, nothing leaks. */
static void test_s29_add_timeout_out_of_memory(void) {
  dft_begin();
  for (long n = 1; n <= 8; n++) {
    df_reactor *r = dft_reactor_new(true);
    df_deferred *d = df_deferred_new(NULL, NULL);
    dft_alloc_fail_nth(n);
    df_deferred *got = df_add_timeout(d, r, 1.0);
    bool failed = dft_alloc_failures() > 0;
    dft_alloc_fail_none();
    CU_ASSERT_PTR_EQUAL(got, failed ? NULL : d);
    df_add_errback(d, dft_cb_none, NULL);
    CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
    CU_ASSERT_EQUAL(df_called(d), !failed); /* armed only on success */
    df_unref(d);
    CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  }
  dft_end();
}

static CU_TestInfo tests[] = {
    {"s29_sleep_fires_with_none_after_delay",
     test_s29_sleep_fires_with_none_after_delay},
    {"s29_sleep_cancel_cancels_the_timer",
     test_s29_sleep_cancel_cancels_the_timer},
    {"s29_sleep_runs_callbacks_after_caller_released",
     test_s29_sleep_runs_callbacks_after_caller_released},
    {"s29_sleep_bad_arguments_fail_the_deferred",
     test_s29_sleep_bad_arguments_fail_the_deferred},
    {"s29_sleep_out_of_memory", test_s29_sleep_out_of_memory},
    {"s29_r11_1_timeout_chainable", test_s29_r11_1_timeout_chainable},
    {"s29_r11_2_timed_out", test_s29_r11_2_timed_out},
    {"s29_r11_2_timeout_code_is_milliseconds",
     test_s29_r11_2_timeout_code_is_milliseconds},
    {"s29_r11_2_two_timeouts_first_to_expire_wins",
     test_s29_r11_2_two_timeouts_first_to_expire_wins},
    {"s29_r11_2_timers_fire_in_deadline_order",
     test_s29_r11_2_timers_fire_in_deadline_order},
    {"s29_r11_3_errback_added_before_timeout",
     test_s29_r11_3_errback_added_before_timeout},
    {"s29_r11_3_errback_added_before_timeout_suppresses_cancellation",
     test_s29_r11_3_errback_added_before_timeout_suppresses_cancellation},
    {"s29_r11_4_timed_out_provided_cancel_success",
     test_s29_r11_4_timed_out_provided_cancel_success},
    {"s29_r11_4_timed_out_provided_cancel_failure",
     test_s29_r11_4_timed_out_provided_cancel_failure},
    {"s29_r11_4_callback_added_to_canceller_before_timeout",
     test_s29_r11_4_callback_added_to_canceller_before_timeout},
    {"s29_r11_5_timed_out_custom", test_s29_r11_5_timed_out_custom},
    {"s29_r11_5_custom_gets_result_and_seconds",
     test_s29_r11_5_custom_gets_result_and_seconds},
    {"s29_r11_5_custom_gets_the_cancellers_value_and_seconds",
     test_s29_r11_5_custom_gets_the_cancellers_value_and_seconds},
    {"s29_r11_5_provided_cancel_called_before_timeout_custom",
     test_s29_r11_5_provided_cancel_called_before_timeout_custom},
    {"s29_r11_5_errback_added_before_timeout_custom",
     test_s29_r11_5_errback_added_before_timeout_custom},
    {"s29_r11_5_errback_before_timeout_suppresses_cancellation_custom",
     test_s29_r11_5_errback_before_timeout_suppresses_cancellation_custom},
    {"s29_r11_5_callback_added_to_canceller_before_timeout_custom",
     test_s29_r11_5_callback_added_to_canceller_before_timeout_custom},
    {"s29_r11_6_success_result_before_timeout",
     test_s29_r11_6_success_result_before_timeout},
    {"s29_r11_6_success_result_before_timeout_custom",
     test_s29_r11_6_success_result_before_timeout_custom},
    {"s29_r11_6_failure_before_timeout", test_s29_r11_6_failure_before_timeout},
    {"s29_r11_6_failure_before_timeout_custom",
     test_s29_r11_6_failure_before_timeout_custom},
    {"s29_r11_6_cancel_before_timeout", test_s29_r11_6_cancel_before_timeout},
    {"s29_r11_6_cancel_before_timeout_custom",
     test_s29_r11_6_cancel_before_timeout_custom},
    {"s29_r11_6_timeout_on_fired_deferred_disarms_at_once",
     test_s29_r11_6_timeout_on_fired_deferred_disarms_at_once},
    {"s29_r11_6_no_cancel_of_later_inner_deferred",
     test_s29_r11_6_no_cancel_of_later_inner_deferred},
    {"s29_r11_7_timer_stays_armed_while_waiting_on_inner",
     test_s29_r11_7_timer_stays_armed_while_waiting_on_inner},
    {"s29_r11_8_timed_out_swallows_one_late_fire",
     test_s29_r11_8_timed_out_swallows_one_late_fire},
    {"s29_timeout_after_caller_released",
     test_s29_timeout_after_caller_released},
    {"s29_timeout_steps_freed_with_paused_deferred",
     test_s29_timeout_steps_freed_with_paused_deferred},
    {"s29_add_timeout_bad_arguments", test_s29_add_timeout_bad_arguments},
    {"s29_add_timeout_out_of_memory", test_s29_add_timeout_out_of_memory},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main("timeout", tests); }
