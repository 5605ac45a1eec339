/* Bad input: every public core function's documented answer to NULL and
 * misuse. Nothing crashes; nothing leaks. */
#include <string.h>

#include "dft.h"

static bool names_something(df_failure *f) {
  return f != NULL && strlen(df_failure_message(f)) > 0;
}

/* The failure a Deferred holds, borrowed, or NULL. */
static df_failure *held_failure(const df_deferred *d) {
  df_result r;
  return df_peek(d, &r) ? df_result_failure(r) : NULL;
}

static void test_misuse_ref_and_unref_null(void) {
  CU_ASSERT_PTR_NULL(df_ref(NULL));
  df_unref(NULL);
}

static void test_misuse_state_queries_on_null(void) {
  df_result r = df_ok(DFT_S("untouched"), NULL);
  CU_ASSERT_FALSE(df_called(NULL));
  CU_ASSERT_FALSE(df_waiting(NULL));
  CU_ASSERT_FALSE(df_peek(NULL, &r));
  df_deferred *d = df_succeed(NULL, NULL);
  CU_ASSERT_FALSE(df_peek(d, NULL));
  df_unref(d);
  d = df_deferred_new(NULL, NULL);
  CU_ASSERT_FALSE(df_peek(d, &r)); /* unfired */
  df_unref(d);
}

static void test_misuse_add_callbacks_to_null_deferred(void) {
  CU_ASSERT_PTR_NULL(
      df_add_callbacks(NULL, dft_cb_trace, NULL, dft_cb_trace, NULL));
  CU_ASSERT_PTR_NULL(df_add_callback(NULL, dft_cb_trace, NULL));
  CU_ASSERT_PTR_NULL(df_add_errback(NULL, dft_cb_trace, NULL));
  CU_ASSERT_PTR_NULL(df_add_both(NULL, dft_cb_trace, NULL));
}

static void test_misuse_add_callbacks_full_to_null_frees_args(void) {
  CU_ASSERT_PTR_NULL(df_add_callbacks_full(NULL, dft_cb_trace, dft_arg_new("a"),
                                           dft_cb_trace, dft_arg_new("b"),
                                           dft_arg_free));
  CU_ASSERT_EQUAL(dft_arg_frees(), 2);
}

static void test_misuse_add_callbacks_with_both_functions_null(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_NULL(df_add_callbacks(d, NULL, NULL, NULL, NULL));
  CU_ASSERT_PTR_NULL(df_add_callbacks_full(d, NULL, dft_arg_new("a"), NULL,
                                           dft_arg_new("b"), dft_arg_free));
  CU_ASSERT_EQUAL(dft_arg_frees(), 2);
  /* Nothing was added: the chain is as it was. */
  df_add_callback(d, dft_cb_trace, DFT_S("only"));
  df_callback(d, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "only=None");
  df_unref(d);
}

/* A NULL step function added by each of df_add_callback, df_add_errback and
 * df_add_both, reached by the kind of result it would have handled. */
typedef enum fire_with { FIRE_VALUE, FIRE_FAILURE, FIRE_NONE } fire_with;

static const struct null_step_case {
  df_deferred *(*add)(df_deferred *d, df_callback_fn fn, void *arg);
  fire_with fire;
} null_step_cases[] = {
    {df_add_callback, FIRE_VALUE},
    {df_add_errback, FIRE_FAILURE},
    {df_add_both, FIRE_NONE},
};

static void test_misuse_null_step_turns_chain_into_invalid_argument(void) {
  for (size_t i = 0; i < sizeof null_step_cases / sizeof null_step_cases[0];
       i++) {
    const struct null_step_case *c = &null_step_cases[i];
    dft_begin();
    df_deferred *d = df_deferred_new(NULL, NULL);
    CU_ASSERT_PTR_EQUAL(c->add(d, NULL, NULL), d);
    df_add_errback(d, dft_cb_trace_type, DFT_S("eb"));
    df_add_errback(d, dft_cb_none, NULL);
    if (c->fire == FIRE_VALUE)
      df_callback(d, dft_str("v"), dft_str_free);
    else if (c->fire == FIRE_FAILURE)
      df_errback(d, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x"));
    else
      df_callback(d, NULL, NULL);
    CU_ASSERT_STRING_EQUAL(dft_trace_text(), "eb=<InvalidArgument>");
    df_unref(d);
    dft_end();
  }
}

static void test_misuse_fire_null_deferred_frees_the_value(void) {
  CU_ASSERT_EQUAL(df_callback(NULL, dft_str("v"), dft_str_free), DF_EINVAL);
  CU_ASSERT_EQUAL(df_errback(NULL, df_failure_new(&DFT_RUNTIME_ERROR, 0, "x")),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(df_fire(NULL, df_ok(NULL, NULL)), DF_EINVAL);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
}

static void test_misuse_fire_with_a_deferred_is_refused(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *other = df_deferred_new(NULL, NULL);
  df_add_callback(d, dft_cb_trace, DFT_S("d"));
  CU_ASSERT_EQUAL(df_fire(d, df_wait(other)), DF_EINVAL);
  CU_ASSERT_FALSE(df_called(d));
  CU_ASSERT_FALSE(df_waiting(d));
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "");
  /* The refused reference was dropped: ours is the last one. */
  df_unref(other);
  /* d stays unfired and can be fired normally. */
  CU_ASSERT_EQUAL(df_callback(d, dft_str("later"), dft_str_free), 0);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "d='later'");
  df_unref(d);
}

static void test_misuse_errback_with_null_failure_names_the_argument(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_errback(d, NULL);
  CU_ASSERT(df_called(d));
  CU_ASSERT(names_something(held_failure(d)));
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static void test_misuse_wait_on_null_gives_invalid_argument(void) {
  df_result r = df_wait(NULL);
  CU_ASSERT(df_result_is_failure(r));
  CU_ASSERT_PTR_EQUAL(df_failure_type(df_result_failure(r)),
                      &DF_INVALID_ARGUMENT);
  df_result_free(r);
}

static df_result cb_wait_null(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_wait(NULL);
}

static void test_misuse_callback_returning_wait_null_fails_the_chain(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_wait_null, NULL);
  df_callback(d, NULL, NULL);
  CU_ASSERT_FALSE(df_waiting(d));
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static void test_misuse_maybe_null_function(void) {
  df_deferred *d = df_maybe(NULL, DFT_S("arg"));
  CU_ASSERT(names_something(held_failure(d)));
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static void test_misuse_fail_now_null(void) {
  df_deferred *d = df_fail_now(NULL);
  dft_release_failed(d, &DF_INVALID_ARGUMENT);
}

static void test_misuse_cancel_null(void) { df_cancel(NULL); }

static void test_misuse_chain_with_null_or_self(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  CU_ASSERT_PTR_NULL(df_chain(NULL, b));
  CU_ASSERT_PTR_NULL(df_chain(a, NULL));
  CU_ASSERT_PTR_NULL(df_chain(a, a));
  /* Nothing was added to a, and no reference to b was kept. */
  df_add_callback(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, dft_str("v"), dft_str_free);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a='v'");
  CU_ASSERT_FALSE(df_called(b));
  df_unref(b);
  df_unref(a);
}

static void test_misuse_pause_and_unpause_null(void) {
  CU_ASSERT_EQUAL(df_pause(NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_unpause(NULL), DF_EINVAL);
}

static void test_misuse_unbalanced_unpause(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_EQUAL(df_unpause(d), DF_ENOTPAUSED);
  CU_ASSERT_EQUAL(df_pause(d), 0);
  CU_ASSERT_EQUAL(df_unpause(d), 0);
  CU_ASSERT_EQUAL(df_unpause(d), DF_ENOTPAUSED);
  df_add_callback(d, dft_cb_trace, DFT_S("d"));
  df_callback(d, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "d=None");
  df_unref(d);
}

static void test_misuse_list_with_null_array(void) {
  df_deferred *dl = df_list(NULL, 2, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dl);
  CU_ASSERT(names_something(held_failure(dl)));
  dft_release_failed(dl, &DF_INVALID_ARGUMENT);
}

static void test_misuse_list_with_null_member(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *ds[3] = {a, NULL, a};
  df_deferred *dl = df_list(ds, 3, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(dl);
  CU_ASSERT(names_something(held_failure(dl)));
  dft_release_failed(dl, &DF_INVALID_ARGUMENT);
  /* a was not watched: firing it runs only its own chain. */
  df_add_callback(a, dft_cb_trace, DFT_S("a"));
  df_callback(a, NULL, NULL);
  CU_ASSERT_STRING_EQUAL(dft_trace_text(), "a=None");
  df_unref(a);
}

static void test_misuse_list_with_unknown_flags(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *dl = df_list(&a, 1, 1u << 7);
  dft_release_failed(dl, &DF_INVALID_ARGUMENT);
  df_unref(a);
}

static void test_misuse_gather_with_list_only_flags(void) {
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *g = df_gather(&a, 1, DF_FIRE_ON_ONE_CALLBACK);
  dft_release_failed(g, &DF_INVALID_ARGUMENT);
  g = df_gather(NULL, 1, 0);
  dft_release_failed(g, &DF_INVALID_ARGUMENT);
  df_unref(a);
}

static void test_misuse_list_result_free_null(void) {
  df_list_result_free(NULL);
  df_list_first_free(NULL);
}

static void test_misuse_hooks_reset_to_default_with_null(void) {
  df_set_unhandled_hook(NULL, DFT_S("ignored"));
  df_set_already_called_hook(NULL, DFT_S("ignored"));
  df_deferred *d =
      df_fail_now(df_failure_new(&DFT_RUNTIME_ERROR, 0, "default"));
  dft_stderr_begin();
  df_unref(d);
  const char *text = dft_stderr_end();
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "default"));
  CU_ASSERT_EQUAL(dft_take_unhandled(), 0);
}

static void test_misuse_deferred_new_with_null_canceller(void) {
  df_deferred *d = df_deferred_new(NULL, DFT_S("arg without canceller"));
  CU_ASSERT_PTR_NOT_NULL(d);
  df_cancel(d);
  dft_release_failed(d, &DF_CANCELLED);
}

static void
test_misuse_fire_after_refused_deferred_value_and_double_wait(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  CU_ASSERT_EQUAL(df_fire(d, df_wait(d)), DF_EINVAL); /* itself, even */
  CU_ASSERT_FALSE(df_called(d));
  CU_ASSERT_EQUAL(df_callback(d, NULL, NULL), 0);
  df_unref(d);
}

static CU_TestInfo tests[] = {
    {"misuse_ref_and_unref_null", test_misuse_ref_and_unref_null},
    {"misuse_state_queries_on_null", test_misuse_state_queries_on_null},
    {"misuse_add_callbacks_to_null_deferred",
     test_misuse_add_callbacks_to_null_deferred},
    {"misuse_add_callbacks_full_to_null_frees_args",
     test_misuse_add_callbacks_full_to_null_frees_args},
    {"misuse_add_callbacks_with_both_functions_null",
     test_misuse_add_callbacks_with_both_functions_null},
    {"misuse_null_step_turns_chain_into_invalid_argument",
     test_misuse_null_step_turns_chain_into_invalid_argument},
    {"misuse_fire_null_deferred_frees_the_value",
     test_misuse_fire_null_deferred_frees_the_value},
    {"misuse_fire_with_a_deferred_is_refused",
     test_misuse_fire_with_a_deferred_is_refused},
    {"misuse_errback_with_null_failure_names_the_argument",
     test_misuse_errback_with_null_failure_names_the_argument},
    {"misuse_wait_on_null_gives_invalid_argument",
     test_misuse_wait_on_null_gives_invalid_argument},
    {"misuse_callback_returning_wait_null_fails_the_chain",
     test_misuse_callback_returning_wait_null_fails_the_chain},
    {"misuse_maybe_null_function", test_misuse_maybe_null_function},
    {"misuse_fail_now_null", test_misuse_fail_now_null},
    {"misuse_cancel_null", test_misuse_cancel_null},
    {"misuse_chain_with_null_or_self", test_misuse_chain_with_null_or_self},
    {"misuse_pause_and_unpause_null", test_misuse_pause_and_unpause_null},
    {"misuse_unbalanced_unpause", test_misuse_unbalanced_unpause},
    {"misuse_list_with_null_array", test_misuse_list_with_null_array},
    {"misuse_list_with_null_member", test_misuse_list_with_null_member},
    {"misuse_list_with_unknown_flags", test_misuse_list_with_unknown_flags},
    {"misuse_gather_with_list_only_flags",
     test_misuse_gather_with_list_only_flags},
    {"misuse_list_result_free_null", test_misuse_list_result_free_null},
    {"misuse_hooks_reset_to_default_with_null",
     test_misuse_hooks_reset_to_default_with_null},
    {"misuse_deferred_new_with_null_canceller",
     test_misuse_deferred_new_with_null_canceller},
    {"misuse_fire_after_refused_deferred_value_and_double_wait",
     test_misuse_fire_after_refused_deferred_value_and_double_wait},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("misuse", tests); }
