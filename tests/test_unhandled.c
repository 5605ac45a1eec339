/* Unhandled failures (S09, R12) and debug mode: the reports name the
 * failure and, in debug mode, where the Deferred was created and first
 * fired. */
#include <stdio.h>
#include <string.h>

#include "dft.h"

static void test_s09_released_with_unhandled_failure_reports_once(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  int line = __LINE__ + 1;
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 9, "nobody handled me");
  df_errback(d, f);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  const dft_unhandled_report *r = dft_last_unhandled();
  CU_ASSERT_PTR_EQUAL(r->type, &DFT_RUNTIME_ERROR);
  CU_ASSERT_EQUAL(r->code, 9);
  CU_ASSERT_STRING_EQUAL(r->message, "nobody handled me");
  CU_ASSERT(dft_path_is(r->file, "test_unhandled.c"));
  CU_ASSERT_EQUAL(r->line, line);
  CU_ASSERT_FALSE(r->where.has_where); /* debug mode off */
}

static void test_s09_report_happens_inside_the_last_unref(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_ref(d);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
}

static void test_s09_failure_raised_in_callback_reports_its_origin(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_fail, DFT_S("from a callback"));
  df_callback(d, NULL, NULL);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "from a callback");
  CU_ASSERT(dft_path_is(dft_last_unhandled()->file, "dft_values.c"));
}

static void test_s09_handled_failure_is_not_reported(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_none, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "handled"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_s09_value_and_unfired_deferreds_report_nothing(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_callback(b, dft_str("v"), dft_str_free);
  df_unref(a);
  df_unref(b);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_s09_failure_after_recovery_is_reported(void) {
  /* R12.1: the failure may appear after an errback recovered. */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_value, DFT_S("recovered"));
  df_add_callback(d, dft_cb_fail, DFT_S("second failure"));
  df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "first"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_PTR_EQUAL(dft_last_unhandled()->type, &DFT_RUNTIME_ERROR);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "second failure");
}

static void test_s09_passed_on_failure_is_reported(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_errback(d, dft_cb_trace, DFT_S("saw"));
  df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "re-raised"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "re-raised");
}

static void test_s09_unhandled_cancel_is_reported(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_cancel(d);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_PTR_EQUAL(dft_last_unhandled()->type, &DF_CANCELLED);
}

static void test_s09_stolen_failure_is_reported_on_the_receiver_only(void) {
  /* R12.3 / test_synchronousImplicitErrorChain. */
  df_deferred *first =
      df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "first's"));
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_callback(second, NULL, NULL);
  df_unref(first);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(second);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "first's");
}

static void test_s09_handed_off_failure_is_reported_on_the_receiver_only(void) {
  /* R12.3 / test_asynchronousImplicitErrorChain. */
  df_deferred *first = df_deferred_new(NULL, NULL);
  df_deferred *second = df_deferred_new(NULL, NULL);
  df_add_callback(second, dft_cb_wait, first);
  df_callback(second, NULL, NULL);
  df_errback(first, df_failure_new(&DFT_RUNTIME_ERROR, 0, "first's"));
  df_unref(first);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(second);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
}

static void test_s09_waiting_deferred_is_not_reported(void) {
  /* R5.10 / R12.3: while A waits, its result is the inner Deferred, not its
   * original failure; the inner success then recovers it. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_errback(a, dft_cb_wait, b);
  df_add_callback(a, dft_cb_trace, DFT_S("a"));
  df_errback(a, df_failure_new(&DFT_RUNTIME_ERROR, 0, "original"));
  CU_ASSERT(df_waiting(a));
  df_unref(a);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_callback(b, dft_str("ok"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='ok'");
  df_unref(b);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_s09_failure_moved_by_chain_is_not_reported_on_source(void) {
  /* R6.1: a's result after the chained step is None. */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_chain(a, b);
  df_errback(a, df_failure_new(&DFT_RUNTIME_ERROR, 0, "moved"));
  CU_ASSERT(dft_peek_is_none(a));
  df_unref(a);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
  df_unref(b);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "moved");
}

static void test_s09_r12_4_failure_arriving_while_paused_is_reported(void) {
  /* Documented difference: Twisted never reports it (R12.4). */
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_pause(d);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "while paused"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "while paused");
}

static int hook_calls;
static void *hook_arg_seen;

static void counting_hook(const df_failure *f, const df_debug_info *where,
                          void *arg) {
  (void)f;
  (void)where;
  hook_calls++;
  hook_arg_seen = arg;
}

static void test_s09_hook_gets_its_arg(void) {
  int token = 0;
  hook_calls = 0;
  df_set_unhandled_hook(counting_hook, &token);
  df_deferred *d = df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  df_unref(d);
  CU_ASSERT_EQUAL(hook_calls, 1);
  CU_ASSERT_PTR_EQUAL(hook_arg_seen, &token);
}

static void test_s09_default_report_is_one_block_on_stderr(void) {
  df_set_unhandled_hook(NULL, NULL);
  df_deferred *d = df_deferred_new(NULL, NULL);
  int line = __LINE__ + 1;
  df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "printed by default"));
  dft_stderr_begin();
  df_unref(d);
  const char *text = dft_stderr_end();
  char where[64];
  snprintf(where, sizeof where, "test_unhandled.c:%d", line);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "ValueError"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "printed by default"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, where));
}

/* ------------------------------------------------------------ debug mode */

static void test_debug_get_reflects_set(void) {
  df_set_debugging(true);
  CU_ASSERT(df_get_debugging());
  df_set_debugging(false);
  CU_ASSERT_FALSE(df_get_debugging());
}

static void test_debug_unhandled_report_names_creation_and_first_fire(void) {
  df_set_debugging(true);
  int created = __LINE__ + 1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  int fired = __LINE__ + 1;
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "debug"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  const dft_unhandled_report *r = dft_last_unhandled();
  dft_assert_where(&r->where, "test_unhandled.c", created, fired);
}

static void test_debug_fire_at_records_the_given_place(void) {
  df_set_debugging(true);
  df_deferred *d = df_deferred_new_at(NULL, NULL, "made.c", 11);
  df_fire_at(d, dft_failure(&DFT_RUNTIME_ERROR, "x"), "fired.c", 22);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  const dft_unhandled_report *r = dft_last_unhandled();
  CU_ASSERT_STRING_EQUAL(r->where.created_file, "made.c");
  CU_ASSERT_EQUAL(r->where.created_line, 11);
  CU_ASSERT_STRING_EQUAL(r->where.fired_file, "fired.c");
  CU_ASSERT_EQUAL(r->where.fired_line, 22);
}

static void test_debug_already_called_report_names_all_three_places(void) {
  df_set_debugging(true);
  int created = __LINE__ + 1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  int fired = __LINE__ + 1;
  CU_ASSERT_EQUAL(df_callback(d, dft_str("first"), dft_str_free), 0);
  int refused = __LINE__ + 1;
  CU_ASSERT_EQUAL(df_callback(d, dft_str("second"), dft_str_free), DF_EALREADY);
  CU_ASSERT_EQUAL(dft_take_already(), 1);
  const dft_already_report *r = dft_last_already();
  dft_assert_where(&r->where, "test_unhandled.c", created, fired);
  CU_ASSERT(dft_path_is(r->file, "test_unhandled.c"));
  CU_ASSERT_EQUAL(r->line, refused);
  CU_ASSERT(dft_peek_is_value(d, "first"));
  df_unref(d);
}

static void test_debug_first_fire_is_kept_after_refused_fires(void) {
  df_set_debugging(true);
  df_deferred *d = df_deferred_new(NULL, NULL);
  int fired = __LINE__ + 1;
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "first"));
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), DF_EALREADY);
  CU_ASSERT_EQUAL(df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "3rd")),
                  DF_EALREADY);
  CU_ASSERT_EQUAL(dft_take_already(), 2);
  CU_ASSERT_EQUAL(dft_last_already()->where.fired_line, fired);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_EQUAL(dft_last_unhandled()->where.fired_line, fired);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "first");
}

static void test_debug_off_reports_have_no_place(void) {
  df_set_debugging(false);
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  CU_ASSERT_EQUAL(df_callback(d, dft_str("second"), dft_str_free), DF_EALREADY);
  /* The AlreadyCalled hook is a debug-mode report. */
  CU_ASSERT_EQUAL(dft_take_already(), 0);
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_FALSE(dft_last_unhandled()->where.has_where);
}

static void test_debug_applies_to_deferreds_created_from_now_on(void) {
  df_deferred *before = df_deferred_new(NULL, NULL);
  df_set_debugging(true);
  df_deferred *during = df_deferred_new(NULL, NULL);
  df_set_debugging(false);
  df_errback(before, df_failure_new(&DFT_RUNTIME_ERROR, 0, "before"));
  df_errback(during, df_failure_new(&DFT_RUNTIME_ERROR, 0, "during"));
  df_unref(before);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_FALSE(dft_last_unhandled()->where.has_where);
  df_unref(during);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT(dft_last_unhandled()->where.has_where);
}

static void test_debug_default_already_called_report_on_stderr(void) {
  df_set_debugging(true);
  df_set_already_called_hook(NULL, NULL);
  int created = __LINE__ + 1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  int fired = __LINE__ + 1;
  df_callback(d, NULL, NULL);
  dft_stderr_begin();
  int status = df_callback(d, NULL, NULL);
  const char *text = dft_stderr_end();
  CU_ASSERT_EQUAL(status, DF_EALREADY);
  char where[64];
  snprintf(where, sizeof where, "test_unhandled.c:%d", created);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, where));
  snprintf(where, sizeof where, "test_unhandled.c:%d", fired);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, where));
  df_unref(d);
}

static void test_debug_default_unhandled_report_names_creation(void) {
  df_set_debugging(true);
  df_set_unhandled_hook(NULL, NULL);
  int created = __LINE__ + 1;
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
  dft_stderr_begin();
  df_unref(d);
  const char *text = dft_stderr_end();
  char where[64];
  snprintf(where, sizeof where, "test_unhandled.c:%d", created);
  CU_ASSERT_PTR_NOT_NULL(strstr(text, where));
}

static CU_TestInfo tests[] = {
    {"s09_released_with_unhandled_failure_reports_once",
     test_s09_released_with_unhandled_failure_reports_once},
    {"s09_report_happens_inside_the_last_unref",
     test_s09_report_happens_inside_the_last_unref},
    {"s09_failure_raised_in_callback_reports_its_origin",
     test_s09_failure_raised_in_callback_reports_its_origin},
    {"s09_handled_failure_is_not_reported",
     test_s09_handled_failure_is_not_reported},
    {"s09_value_and_unfired_deferreds_report_nothing",
     test_s09_value_and_unfired_deferreds_report_nothing},
    {"s09_failure_after_recovery_is_reported",
     test_s09_failure_after_recovery_is_reported},
    {"s09_passed_on_failure_is_reported",
     test_s09_passed_on_failure_is_reported},
    {"s09_unhandled_cancel_is_reported", test_s09_unhandled_cancel_is_reported},
    {"s09_stolen_failure_is_reported_on_the_receiver_only",
     test_s09_stolen_failure_is_reported_on_the_receiver_only},
    {"s09_handed_off_failure_is_reported_on_the_receiver_only",
     test_s09_handed_off_failure_is_reported_on_the_receiver_only},
    {"s09_waiting_deferred_is_not_reported",
     test_s09_waiting_deferred_is_not_reported},
    {"s09_failure_moved_by_chain_is_not_reported_on_source",
     test_s09_failure_moved_by_chain_is_not_reported_on_source},
    {"s09_r12_4_failure_arriving_while_paused_is_reported",
     test_s09_r12_4_failure_arriving_while_paused_is_reported},
    {"s09_hook_gets_its_arg", test_s09_hook_gets_its_arg},
    {"s09_default_report_is_one_block_on_stderr",
     test_s09_default_report_is_one_block_on_stderr},
    {"debug_get_reflects_set", test_debug_get_reflects_set},
    {"debug_unhandled_report_names_creation_and_first_fire",
     test_debug_unhandled_report_names_creation_and_first_fire},
    {"debug_fire_at_records_the_given_place",
     test_debug_fire_at_records_the_given_place},
    {"debug_already_called_report_names_all_three_places",
     test_debug_already_called_report_names_all_three_places},
    {"debug_first_fire_is_kept_after_refused_fires",
     test_debug_first_fire_is_kept_after_refused_fires},
    {"debug_off_reports_have_no_place", test_debug_off_reports_have_no_place},
    {"debug_applies_to_deferreds_created_from_now_on",
     test_debug_applies_to_deferreds_created_from_now_on},
    {"debug_default_already_called_report_on_stderr",
     test_debug_default_already_called_report_on_stderr},
    {"debug_default_unhandled_report_names_creation",
     test_debug_default_unhandled_report_names_creation},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("unhandled", tests); }
