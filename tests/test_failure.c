/* df_failure: type hierarchy, fields, references, check/trap (S07),
 * describe (deferred/failure.h). */
#include <pthread.h>
#include <string.h>

#include "dft.h"

static void test_new_records_type_code_message_and_origin(void) {
  int line = __LINE__ + 1;
  df_failure *f = df_failure_new(&DFT_VALUE_ERROR, 42, "odd %d", 3);
  CU_ASSERT_PTR_EQUAL(df_failure_type(f), &DFT_VALUE_ERROR);
  CU_ASSERT_EQUAL(df_failure_code(f), 42);
  CU_ASSERT_STRING_EQUAL(df_failure_message(f), "odd 3");
  CU_ASSERT(dft_path_is(df_failure_file(f), "test_failure.c"));
  CU_ASSERT_EQUAL(df_failure_line(f), line);
  CU_ASSERT_STRING_EQUAL(df_failure_func(f),
                         "test_new_records_type_code_message_and_origin");
  CU_ASSERT_PTR_NULL(df_failure_cause(f));
  df_failure_unref(f);
}

static void test_null_type_is_root_and_null_format_is_empty(void) {
  df_failure *f =
      df_failure_new_at(NULL, 0, NULL, __FILE__, __LINE__, __func__, NULL);
  CU_ASSERT_PTR_EQUAL(df_failure_type(f), &DF_ERROR);
  CU_ASSERT_STRING_EQUAL(df_failure_message(f), "");
  df_failure_unref(f);
}

static void test_long_message_is_kept_whole(void) {
  char text[1001];
  memset(text, 'x', 1000);
  text[1000] = '\0';
  df_failure *f = df_failure_new(&DF_ERROR, 0, "%s", text);
  CU_ASSERT_EQUAL(strlen(df_failure_message(f)), 1000);
  df_failure_unref(f);
}

static void test_references_free_at_the_last_unref(void) {
  long before = dft_alloc_outstanding();
  df_failure *f = df_failure_new(&DF_ERROR, 0, "x");
  CU_ASSERT_PTR_EQUAL(df_failure_ref(f), f);
  df_failure_unref(f);
  CU_ASSERT(dft_alloc_outstanding() > before);
  CU_ASSERT_STRING_EQUAL(df_failure_message(f), "x");
  df_failure_unref(f);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static void test_cause_is_referenced_and_released_with_wrapper(void) {
  long before = dft_alloc_outstanding();
  df_failure *inner = df_failure_new(&DFT_RUNTIME_ERROR, 1, "inner");
  df_failure *outer = df_failure_new_caused(&DF_FIRST_ERROR, 3, inner, "outer");
  df_failure_unref(inner); /* the wrapper keeps its own reference */
  CU_ASSERT_PTR_EQUAL(df_failure_cause(outer), inner);
  CU_ASSERT_STRING_EQUAL(df_failure_message(df_failure_cause(outer)), "inner");
  df_failure_unref(outer);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static void test_deep_cause_chain_is_released(void) {
  df_failure *f = df_failure_new(&DF_ERROR, 0, "root");
  for (int i = 0; i < 100000; i++) {
    df_failure *w = df_failure_new_caused(&DF_FIRST_ERROR, i, f, "w");
    df_failure_unref(f);
    f = w;
  }
  df_failure_unref(f);
}

static void test_accessors_on_null(void) {
  CU_ASSERT_PTR_NULL(df_failure_type(NULL));
  CU_ASSERT_EQUAL(df_failure_code(NULL), 0);
  CU_ASSERT_STRING_EQUAL(df_failure_message(NULL), "");
  CU_ASSERT_STRING_EQUAL(df_failure_file(NULL), "");
  CU_ASSERT_EQUAL(df_failure_line(NULL), 0);
  CU_ASSERT_STRING_EQUAL(df_failure_func(NULL), "");
  CU_ASSERT_PTR_NULL(df_failure_cause(NULL));
  CU_ASSERT_PTR_NULL(df_failure_ref(NULL));
  df_failure_unref(NULL);
  CU_ASSERT_PTR_NULL(df_failure_check(NULL, &DF_ERROR, NULL));
}

static void test_builtin_types_derive_from_root(void) {
  const df_error_type *all[] = {
      &DF_CANCELLED,   &DF_ALREADY_CALLED,   &DF_TIMEOUT,
      &DF_FIRST_ERROR, &DF_INVALID_ARGUMENT, &DF_SYSTEM,
      &DF_POOL_CLOSED, &DF_POOL_FULL,        &DF_DNS,
      &DF_CONNECT,     &DF_NO_MEMORY};
  CU_ASSERT_PTR_NULL(DF_ERROR.base);
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    CU_ASSERT(df_error_type_is(all[i], &DF_ERROR));
    CU_ASSERT_PTR_NOT_NULL(all[i]->name);
    CU_ASSERT_FALSE(df_error_type_is(&DF_ERROR, all[i]));
  }
}

static void test_s07_type_is_matches_subtypes_not_bases(void) {
  CU_ASSERT(df_error_type_is(&DFT_TIN_ERROR, &DFT_SPAM_ERROR));
  CU_ASSERT(df_error_type_is(&DFT_TIN_ERROR, &DF_ERROR));
  CU_ASSERT(df_error_type_is(&DFT_SPAM_ERROR, &DFT_SPAM_ERROR));
  CU_ASSERT_FALSE(df_error_type_is(&DFT_SPAM_ERROR, &DFT_TIN_ERROR));
  CU_ASSERT_FALSE(df_error_type_is(&DFT_SPAM_ERROR, &DFT_EGG_ERROR));
  CU_ASSERT_FALSE(df_error_type_is(NULL, &DF_ERROR));
  CU_ASSERT_FALSE(df_error_type_is(&DF_ERROR, NULL));
}

static void test_s07_check_returns_first_matching_type(void) {
  df_failure *f = df_failure_new(&DFT_TIN_ERROR, 0, "tinned");
  CU_ASSERT_PTR_EQUAL(
      df_failure_check(f, &DFT_EGG_ERROR, &DFT_SPAM_ERROR, NULL),
      &DFT_SPAM_ERROR);
  CU_ASSERT_PTR_EQUAL(
      df_failure_check(f, &DFT_TIN_ERROR, &DFT_SPAM_ERROR, NULL),
      &DFT_TIN_ERROR);
  CU_ASSERT_PTR_EQUAL(df_failure_check(f, &DF_ERROR, &DFT_TIN_ERROR, NULL),
                      &DF_ERROR);
  CU_ASSERT_PTR_NULL(df_failure_check(f, &DFT_EGG_ERROR, NULL));
  CU_ASSERT_PTR_NULL(df_failure_check(f, NULL));
  df_failure_unref(f);
}

static void test_s07_check_of_base_does_not_match_subtype_list(void) {
  /* R1.8: trapping subclasses does not catch an instance of their base. */
  df_failure *f = df_failure_new(&DFT_SPAM_ERROR, 0, "plain spam");
  CU_ASSERT_PTR_NULL(df_failure_check(f, &DFT_TIN_ERROR, NULL));
  df_failure_unref(f);
}

static void test_describe_renders_one_line_with_causes(void) {
  char buf[512], expected[512];
  df_failure *inner =
      df_failure_new_at(&DFT_RUNTIME_ERROR, 5, NULL, "a.c", 10, "fa", "bang!");
  df_failure *outer = df_failure_new_at(&DF_FIRST_ERROR, 1, inner, "b.c", 20,
                                        "fb", "member %d failed", 1);
  df_failure_unref(inner);
  size_t n = df_failure_describe(inner, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "RuntimeError: bang! (code 5) at a.c:10 in fa");
  CU_ASSERT_EQUAL(n, strlen(buf));
  n = df_failure_describe(outer, buf, sizeof buf);
  snprintf(expected, sizeof expected, "%s <- caused by %s",
           "FirstError: member 1 failed (code 1) at b.c:20 in fb",
           "RuntimeError: bang! (code 5) at a.c:10 in fa");
  CU_ASSERT_STRING_EQUAL(buf, expected);
  CU_ASSERT_EQUAL(n, strlen(expected));
  df_failure_unref(outer);
}

static void test_describe_truncates_and_returns_needed_length(void) {
  char full[256], small[8];
  df_failure *f =
      df_failure_new_at(&DF_CANCELLED, 0, NULL, "c.c", 1, "fn", "m");
  size_t need = df_failure_describe(f, full, sizeof full);
  memset(small, 'z', sizeof small);
  CU_ASSERT_EQUAL(df_failure_describe(f, small, sizeof small), need);
  CU_ASSERT_EQUAL(small[sizeof small - 1], '\0');
  CU_ASSERT_EQUAL(strncmp(small, full, sizeof small - 1), 0);
  CU_ASSERT_EQUAL(df_failure_describe(f, NULL, 0), need);
  small[0] = 'z';
  CU_ASSERT_EQUAL(df_failure_describe(f, small, 1), need);
  CU_ASSERT_EQUAL(small[0], '\0');
  df_failure_unref(f);
}

static void test_describe_null_failure_is_empty(void) {
  char buf[16] = "zzz";
  CU_ASSERT_EQUAL(df_failure_describe(NULL, buf, sizeof buf), 0);
  CU_ASSERT_STRING_EQUAL(buf, "");
}

static void test_new_without_memory_gives_static_no_memory_failure(void) {
  dft_alloc_fail_from(1);
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "lost");
  df_failure *g = df_failure_new(&DFT_VALUE_ERROR, 0, "lost too");
  dft_alloc_fail_none();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_PTR_NOT_NULL_FATAL(g);
  CU_ASSERT_PTR_EQUAL(df_failure_type(f), &DF_NO_MEMORY);
  CU_ASSERT_PTR_EQUAL(df_failure_type(g), &DF_NO_MEMORY);
  /* References on the static failure are harmless, however many. */
  df_failure_ref(f);
  df_failure_unref(f);
  df_failure_unref(f);
  df_failure_unref(f);
  df_failure_unref(g);
  CU_ASSERT_PTR_EQUAL(df_failure_type(f), &DF_NO_MEMORY);
}

enum { THREAD_ROUNDS = 100000 };

static void *ref_unref_many(void *arg) {
  df_failure *f = arg;
  for (int i = 0; i < THREAD_ROUNDS; i++) {
    df_failure_ref(f);
    df_failure_unref(f);
  }
  df_failure_unref(f); /* the reference this thread was handed */
  return NULL;
}

static void test_references_are_atomic_across_threads(void) {
  long before = dft_alloc_outstanding();
  df_failure *f = df_failure_new(&DFT_RUNTIME_ERROR, 0, "shared by threads");
  pthread_t threads[2];
  for (int i = 0; i < 2; i++) {
    df_failure_ref(f);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&threads[i], NULL, ref_unref_many, f),
                          0);
  }
  for (int i = 0; i < 2; i++)
    pthread_join(threads[i], NULL);
  CU_ASSERT_STRING_EQUAL(df_failure_message(f), "shared by threads");
  df_failure_unref(f);
  CU_ASSERT_EQUAL(dft_alloc_outstanding(), before);
}

static CU_TestInfo tests[] = {
    {"new_records_type_code_message_and_origin",
     test_new_records_type_code_message_and_origin},
    {"null_type_is_root_and_null_format_is_empty",
     test_null_type_is_root_and_null_format_is_empty},
    {"long_message_is_kept_whole", test_long_message_is_kept_whole},
    {"references_free_at_the_last_unref",
     test_references_free_at_the_last_unref},
    {"cause_is_referenced_and_released_with_wrapper",
     test_cause_is_referenced_and_released_with_wrapper},
    {"deep_cause_chain_is_released", test_deep_cause_chain_is_released},
    {"references_are_atomic_across_threads",
     test_references_are_atomic_across_threads},
    {"accessors_on_null", test_accessors_on_null},
    {"builtin_types_derive_from_root", test_builtin_types_derive_from_root},
    {"s07_type_is_matches_subtypes_not_bases",
     test_s07_type_is_matches_subtypes_not_bases},
    {"s07_check_returns_first_matching_type",
     test_s07_check_returns_first_matching_type},
    {"s07_check_of_base_does_not_match_subtype_list",
     test_s07_check_of_base_does_not_match_subtype_list},
    {"describe_renders_one_line_with_causes",
     test_describe_renders_one_line_with_causes},
    {"describe_truncates_and_returns_needed_length",
     test_describe_truncates_and_returns_needed_length},
    {"describe_null_failure_is_empty", test_describe_null_failure_is_empty},
    {"new_without_memory_gives_static_no_memory_failure",
     test_new_without_memory_gives_static_no_memory_failure},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("failure", tests); }
