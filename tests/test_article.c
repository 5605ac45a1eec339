/* The reference article's programs, in C, printing what the Python programs
 * print (captured and compared). Where the Python program waits on
 * reactor.callLater, the C program calls the delayed function directly. */
#include <stdio.h>
#include <string.h>

#include "dft.h"

/* A value that prints as itself: a counted string. */
static df_result text(const char *s) { return df_ok(dft_str(s), dft_str_free); }

static df_result number(int n) {
  char buf[32];
  snprintf(buf, sizeof buf, "%d", n);
  return text(buf);
}

/* print(result) */
static df_result cb_print(df_result in, void *arg) {
  (void)arg;
  char buf[512];
  dft_print("%s", in.ptr != NULL && df_result_kind(in) == DF_VALUE &&
                          df_result_release_fn(in) != df_list_result_free
                      ? (const char *)in.ptr
                      : dft_repr(in, buf, sizeof buf));
  return in;
}

/* ------------------------------------------------ getDummyData (Callbacks) */

static df_deferred *pending_d;
static df_result pending_value;

static df_deferred *get_dummy_data(int input) {
  dft_print("getDummyData called");
  df_deferred *d = df_deferred_new(NULL, NULL);
  /* reactor.callLater(2, deferred.callback, inputData * 3) */
  pending_d = df_ref(d);
  pending_value = number(input * 3);
  return d;
}

static df_result cb_print_data(df_result in, void *arg) {
  (void)arg;
  dft_print("Result received: %s", (const char *)in.ptr);
  return in;
}

static void test_article_get_dummy_data(void) {
  df_deferred *deferred = get_dummy_data(3);
  df_add_callback(deferred, cb_print_data, NULL);
  dft_print("Starting the reactor");
  df_fire(pending_d, pending_value); /* the reactor runs the delayed call */
  df_unref(pending_d);
  CU_ASSERT_STRING_EQUAL(dft_printed(), "getDummyData called\n"
                                        "Starting the reactor\n"
                                        "Result received: 9\n");
  df_unref(deferred);
}

/* ------------------------------------------------ Getter (S11) */

typedef struct getter {
  df_deferred *d;
} getter;

static void got_results(getter *self, int x) {
  if (self->d == NULL) {
    dft_print("Nowhere to put results");
    return;
  }
  df_deferred *d = self->d;
  self->d = NULL;
  if (x % 2 == 0)
    df_fire(d, number(x * 3));
  else
    df_errback(d,
               df_failure_new(&DFT_VALUE_ERROR, 0, "You used an odd number!"));
  df_unref(d);
}

static df_result to_html(df_result in, void *arg) {
  (void)arg;
  char buf[64];
  snprintf(buf, sizeof buf, "Result: %s", (const char *)in.ptr);
  df_result_free(in);
  return text(buf);
}

static df_deferred *getter_get_dummy_data(getter *self, int x) {
  (void)x; /* got_results(x) is called directly instead of callLater */
  self->d = df_deferred_new(NULL, NULL);
  df_add_callback(self->d, to_html, NULL);
  return df_ref(self->d);
}

static df_result eb_print_error(df_result in, void *arg) {
  (void)arg;
  df_failure *f = df_result_failure(in);
  dft_print("%s: %s", df_failure_type(f)->name, df_failure_message(f));
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_article_getter_odd_number_errbacks(void) {
  getter g = {NULL};
  df_deferred *d = getter_get_dummy_data(&g, 3);
  df_add_callback(d, cb_print, NULL);
  df_add_errback(d, eb_print_error, NULL);
  got_results(&g, 3);
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "ValueError: You used an odd number!\n");
  got_results(&g, 3);
  CU_ASSERT_STRING_EQUAL(dft_printed(), "ValueError: You used an odd number!\n"
                                        "Nowhere to put results\n");
  df_unref(d);
}

static void test_article_getter_even_number_prints_result_12(void) {
  getter g = {NULL};
  df_deferred *d = getter_get_dummy_data(&g, 4);
  df_add_callback(d, cb_print, NULL);
  df_add_errback(d, eb_print_error, NULL);
  got_results(&g, 4);
  CU_ASSERT_STRING_EQUAL(dft_printed(), "Result: 12\n");
  df_unref(d);
}

/* ------------------------------------------------ trap (S07) */

static df_result cook_spam_and_eggs(df_result in, void *arg) {
  df_result_free(in);
  return df_fail(df_failure_new((const df_error_type *)arg, 0, "burnt"));
}

static df_result error_handler(df_result in, void *arg) {
  (void)arg;
  DF_TRAP(in, &DFT_SPAM_ERROR, &DFT_EGG_ERROR); /* failure.trap(...) */
  dft_print("handled %s", df_failure_type(df_result_failure(in))->name);
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_article_trap_spam_and_eggs(void) {
  const df_error_type *raised[] = {&DFT_SPAM_ERROR, &DFT_EGG_ERROR,
                                   &DFT_TIN_ERROR, &DFT_VALUE_ERROR};
  for (size_t i = 0; i < 4; i++) {
    df_deferred *d = df_deferred_new(NULL, NULL);
    df_add_callback(d, cook_spam_and_eggs, (void *)raised[i]);
    df_add_errback(d, error_handler, NULL);
    df_add_errback(d, eb_print_error, NULL); /* what trap passed on */
    df_callback(d, NULL, NULL);
    df_unref(d);
  }
  CU_ASSERT_STRING_EQUAL(dft_printed(), "handled SpamError\n"
                                        "handled EggError\n"
                                        "handled TinnedSpamError\n"
                                        "ValueError: burnt\n");
}

/* ------------------------------------------------ addCallbacks (S08) */

static df_result callback1(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_fail(df_failure_new(&DFT_RUNTIME_ERROR, 0, "error in callback1"));
}

static df_result errback_named(df_result in, void *arg) {
  dft_print("%s: %s", (const char *)arg,
            df_failure_message(df_result_failure(in)));
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static df_result callback2(df_result in, void *arg) {
  (void)arg;
  dft_print("callback2");
  return in;
}

static void test_article_case_1_errback1_sees_callback1_failure(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, callback1, NULL);                 /* A */
  df_add_errback(d, errback_named, DFT_S("errback1")); /* B */
  df_add_callback(d, callback2, NULL);
  df_add_errback(d, errback_named, DFT_S("errback2"));
  df_fire(d, text("from somewhere"));
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "errback1: error in callback1\ncallback2\n");
  df_unref(d);
}

static void test_article_case_2_errback2_sees_callback1_failure(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callbacks(d, callback1, NULL, errback_named,
                   DFT_S("errback1")); /* C */
  df_add_callbacks(d, callback2, NULL, errback_named, DFT_S("errback2"));
  df_fire(d, text("from somewhere"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "errback2: error in callback1\n");
  df_unref(d);
}

/* ------------------------------------------------ maybeDeferred (S12) */

static const char *const valid_users[] = {"Alice", "Angus", "Agnes"};
static char true_value[] = "True";

static bool is_valid(const char *user) {
  for (size_t i = 0; i < 3; i++)
    if (strcmp(user, valid_users[i]) == 0)
      return true;
  return false;
}

/* Python's bool as a borrowed value: NULL is False. */
static df_result boolean(bool b) { return df_ok(b ? true_value : NULL, NULL); }

static df_result synchronous_is_valid_user(void *user) {
  return boolean(is_valid(user));
}

static df_deferred *async_d;

static df_result asynchronous_is_valid_user(void *user) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  /* reactor.callLater(2, d.callback, user in [...]) */
  async_d = df_ref(d);
  pending_value = boolean(is_valid(user));
  df_result r = df_wait(d);
  df_unref(d);
  return r;
}

static df_result print_result(df_result in, void *arg) {
  (void)arg;
  dft_print(in.ptr != NULL ? "User is authenticated"
                           : "User is not authenticated");
  return in;
}

static void authenticate_user(df_maybe_fn is_valid_user, const char *user) {
  df_deferred *d = df_maybe(is_valid_user, (void *)user);
  df_add_callback(d, print_result, NULL);
  df_unref(d);
}

static void test_article_maybe_deferred_synchronous(void) {
  authenticate_user(synchronous_is_valid_user, "Alice");
  authenticate_user(synchronous_is_valid_user, "Mallory");
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "User is authenticated\nUser is not authenticated\n");
}

static void test_article_maybe_deferred_asynchronous(void) {
  authenticate_user(asynchronous_is_valid_user, "Agnes");
  CU_ASSERT_STRING_EQUAL(dft_printed(), "");
  df_fire(async_d, pending_value);
  df_unref(async_d);
  authenticate_user(asynchronous_is_valid_user, "Mallory");
  df_fire(async_d, pending_value);
  df_unref(async_d);
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "User is authenticated\nUser is not authenticated\n");
}

/* ------------------------------------------------ default cancel (S16, S17) */

static df_result hooray(df_result in, void *arg) {
  (void)arg;
  dft_print("Hooray, a result: %s", (const char *)in.ptr);
  return in;
}

static df_result eb_print_type(df_result in, void *arg) {
  (void)arg;
  dft_print("errback: %s", df_failure_type(df_result_failure(in))->name);
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static int operation_done(df_deferred *operation) {
  return df_fire(operation, text("completed"));
}

static void test_article_default_cancel_before_operation_done(void) {
  df_deferred *operation = df_deferred_new(NULL, NULL);
  df_add_callback(operation, hooray, NULL);
  df_add_errback(operation, eb_print_type, NULL);
  df_cancel(operation);
  CU_ASSERT_EQUAL(operation_done(operation), 0); /* silently ignored */
  if (operation_done(operation) == DF_EALREADY)
    dft_print("AlreadyCalledError");
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "errback: Cancelled\nAlreadyCalledError\n");
  CU_ASSERT_EQUAL(dft_str_frees(), 2); /* both "completed" values */
  df_unref(operation);
}

static void test_article_default_cancel_after_operation_done(void) {
  df_deferred *operation = df_deferred_new(NULL, NULL);
  df_add_callback(operation, hooray, NULL);
  df_add_errback(operation, eb_print_type, NULL);
  CU_ASSERT_EQUAL(operation_done(operation), 0);
  df_cancel(operation);
  CU_ASSERT_STRING_EQUAL(dft_printed(), "Hooray, a result: completed\n");
  CU_ASSERT(dft_peek_is_value(operation, "completed"));
  df_unref(operation);
}

/* ------------------------------------------------ HTTPClient canceller (S15) */

typedef struct transport {
  char written[64];
  bool aborted;
} transport;

typedef struct http_client {
  transport *transport;
  df_deferred *result_deferred;
} http_client;

static void abort_connection(df_deferred *d, void *arg) {
  (void)d;
  http_client *self = arg;
  self->transport->aborted = true;
  dft_print("connection aborted");
}

static df_deferred *http_request(http_client *self, const char *method,
                                 const char *path) {
  self->result_deferred = df_deferred_new(abort_connection, self);
  snprintf(self->transport->written, sizeof self->transport->written,
           "%s %s HTTP/1.0\r\n\r\n", method, path);
  return df_ref(self->result_deferred);
}

static int data_received(http_client *self, const char *data) {
  /* ... parse HTTP response ... eventually call callback() */
  return df_fire(self->result_deferred, text(data));
}

static void test_article_http_client_cancel_aborts_the_connection(void) {
  transport t = {"", false};
  http_client client = {&t, NULL};
  df_deferred *d = http_request(&client, "GET", "/");
  CU_ASSERT_STRING_EQUAL(t.written, "GET / HTTP/1.0\r\n\r\n");
  df_add_callback(d, cb_print, NULL);
  df_add_errback(d, eb_print_type, NULL);
  df_cancel(d);
  CU_ASSERT(t.aborted);
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "connection aborted\nerrback: Cancelled\n");
  /* With a canceller nothing is swallowed: a response that still arrives is
   * refused, and freed. */
  CU_ASSERT_EQUAL(data_received(&client, "HTTP/1.0 200 OK"), DF_EALREADY);
  CU_ASSERT_EQUAL(dft_str_frees(), 1);
  df_unref(client.result_deferred);
  df_unref(d);
}

static void test_article_http_client_response_then_cancel_does_nothing(void) {
  transport t = {"", false};
  http_client client = {&t, NULL};
  df_deferred *d = http_request(&client, "GET", "/index");
  df_add_callback(d, cb_print, NULL);
  CU_ASSERT_EQUAL(data_received(&client, "HTTP/1.0 200 OK"), 0);
  df_cancel(d);
  CU_ASSERT_FALSE(t.aborted);
  CU_ASSERT_STRING_EQUAL(dft_printed(), "HTTP/1.0 200 OK\n");
  df_unref(client.result_deferred);
  df_unref(d);
}

/* ------------------------------------------------ DeferredList (S21-S25) */

static df_result print_list(df_result in, void *arg) {
  (void)arg;
  const df_list_result *l = in.ptr;
  for (size_t i = 0; i < l->count; i++) {
    if (l->entries[i].success)
      dft_print("Success: %s", (const char *)l->entries[i].result.ptr);
    else
      dft_print("Failure: %s",
                df_failure_message(df_result_failure(l->entries[i].result)));
  }
  return in;
}

static void test_article_deferred_list_consume_errors(void) {
  df_deferred *ds[3] = {df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL),
                        df_deferred_new(NULL, NULL)};
  df_deferred *dl = df_list(ds, 3, DF_CONSUME_ERRORS);
  df_add_callback(dl, print_list, NULL);
  df_fire(ds[0], text("one"));
  df_errback(ds[1], df_failure_new(&DF_ERROR, 0, "bang!"));
  df_fire(ds[2], text("three"));
  CU_ASSERT_STRING_EQUAL(dft_printed(),
                         "Success: one\nFailure: bang!\nSuccess: three\n");
  df_unref(dl);
  for (int i = 0; i < 3; i++)
    df_unref(ds[i]);
}

static df_result add_ten(df_result in, void *arg) {
  (void)arg;
  return dft_cb_append(in, DFT_S(" ten"));
}

static void test_article_add_ten_before_the_list(void) {
  df_deferred *deferred1 = df_deferred_new(NULL, NULL);
  df_deferred *deferred2 = df_deferred_new(NULL, NULL);
  df_add_callback(deferred1, add_ten, NULL);
  df_deferred *members[2] = {deferred1, deferred2};
  df_deferred *dl = df_list(members, 2, 0);
  df_add_callback(dl, cb_print, NULL);
  df_fire(deferred1, text("one"));
  df_fire(deferred2, text("two"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "[(True, 'one ten'), (True, 'two')]\n");
  df_unref(dl);
  df_unref(deferred1);
  df_unref(deferred2);
}

static void test_article_add_ten_after_the_list(void) {
  df_deferred *deferred1 = df_deferred_new(NULL, NULL);
  df_deferred *deferred2 = df_deferred_new(NULL, NULL);
  df_deferred *members[2] = {deferred1, deferred2};
  df_deferred *dl = df_list(members, 2, 0);
  df_add_callback(deferred1, add_ten, NULL); /* runs after the list's step */
  df_add_callback(dl, cb_print, NULL);
  df_fire(deferred1, text("one"));
  df_fire(deferred2, text("two"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "[(True, 'one'), (True, 'two')]\n");
  CU_ASSERT(dft_peek_is_value(deferred1, "one ten"));
  df_unref(dl);
  df_unref(deferred1);
  df_unref(deferred2);
}

/* addTen added after the list, with the list's callback dropping the list
 * (returning something else) before addTen runs: deferred2 fires first, so
 * deferred1's value completes the list, whose chain frees its result, and
 * only then does addTen read the same value on deferred1's chain. */
static df_result cb_print_and_drop(df_result in, void *arg) {
  cb_print(in, arg);
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_article_add_ten_after_a_list_that_dropped_its_result(void) {
  df_deferred *deferred1 = df_deferred_new(NULL, NULL);
  df_deferred *deferred2 = df_deferred_new(NULL, NULL);
  df_deferred *members[2] = {deferred1, deferred2};
  df_deferred *dl = df_list(members, 2, 0);
  df_add_callback(deferred1, add_ten, NULL);
  df_add_callback(dl, cb_print_and_drop, NULL);
  df_fire(deferred2, text("two"));
  df_fire(deferred1, text("one"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "[(True, 'one'), (True, 'two')]\n");
  CU_ASSERT(dft_peek_is_none(dl));
  CU_ASSERT(dft_peek_is_value(deferred1, "one ten"));
  CU_ASSERT(dft_peek_is_value(deferred2, "two"));
  df_unref(dl);
  df_unref(deferred1);
  df_unref(deferred2);
}

/* Python's print(list_of_str). */
static df_result cb_print_result(df_result in, void *arg) {
  (void)arg;
  const df_list_result *l = in.ptr;
  char line[256] = "[";
  for (size_t i = 0; i < l->count; i++) {
    size_t n = strlen(line);
    snprintf(line + n, sizeof line - n, "%s'%s'", i == 0 ? "" : ", ",
             (const char *)l->entries[i].result.ptr);
  }
  strncat(line, "]", sizeof line - strlen(line) - 1);
  dft_print("%s", line);
  return in;
}

static void test_article_gather_results(void) {
  df_deferred *d1 = df_deferred_new(NULL, NULL);
  df_deferred *d2 = df_deferred_new(NULL, NULL);
  df_deferred *members[2] = {d1, d2};
  df_deferred *d = df_gather(members, 2, DF_CONSUME_ERRORS);
  df_add_callback(d, cb_print_result, NULL);
  df_fire(d1, text("one"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), ""); /* still waiting for d2 */
  df_fire(d2, text("two"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "['one', 'two']\n");
  df_unref(d);
  df_unref(d1);
  df_unref(d2);
}

/* ------------------------------------------------ chaining (S26, S28) */

static df_result cb_print_got(df_result in, void *arg) {
  dft_print("%s got: %s", (const char *)arg, (const char *)in.ptr);
  return in;
}

static void test_article_chain_deferred(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_deferred *other = df_deferred_new(NULL, NULL);
  df_add_callback(other, cb_print_got, DFT_S("otherDeferred"));
  df_chain(d, other); /* d.chainDeferred(otherDeferred) */
  df_fire(d, text("result"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "otherDeferred got: result\n");
  df_unref(d);
  df_unref(other);
}

static df_result cb_return_b(df_result in, void *arg) {
  df_result_free(in);
  return df_wait((df_deferred *)arg);
}

static void test_article_returning_a_deferred_waits_for_it(void) {
  /* "if you return Deferred B from a callback of Deferred A, A's chain waits
   * until B's callback() is called; A's next callback gets B's last result" */
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_deferred *b = df_deferred_new(NULL, NULL);
  df_add_callback(b, add_ten, NULL);
  df_add_callback(a, cb_return_b, b);
  df_add_callback(a, cb_print_got, DFT_S("A's next callback"));
  df_fire(a, text("a"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "");
  df_fire(b, text("b"));
  CU_ASSERT_STRING_EQUAL(dft_printed(), "A's next callback got: b ten\n");
  df_unref(a);
  df_unref(b);
}

static void test_article_unhandled_error_is_logged_at_release(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, cb_print, NULL);
  df_errback(d, df_failure_new(&DFT_VALUE_ERROR, 0, "no errback"));
  df_unref(d);
  CU_ASSERT_EQUAL(dft_take_unhandled(), 1);
  CU_ASSERT_STRING_EQUAL(dft_last_unhandled()->message, "no errback");
}

static CU_TestInfo tests[] = {
    {"article_get_dummy_data", test_article_get_dummy_data},
    {"article_getter_odd_number_errbacks",
     test_article_getter_odd_number_errbacks},
    {"article_getter_even_number_prints_result_12",
     test_article_getter_even_number_prints_result_12},
    {"article_trap_spam_and_eggs", test_article_trap_spam_and_eggs},
    {"article_case_1_errback1_sees_callback1_failure",
     test_article_case_1_errback1_sees_callback1_failure},
    {"article_case_2_errback2_sees_callback1_failure",
     test_article_case_2_errback2_sees_callback1_failure},
    {"article_maybe_deferred_synchronous",
     test_article_maybe_deferred_synchronous},
    {"article_maybe_deferred_asynchronous",
     test_article_maybe_deferred_asynchronous},
    {"article_default_cancel_before_operation_done",
     test_article_default_cancel_before_operation_done},
    {"article_default_cancel_after_operation_done",
     test_article_default_cancel_after_operation_done},
    {"article_http_client_cancel_aborts_the_connection",
     test_article_http_client_cancel_aborts_the_connection},
    {"article_http_client_response_then_cancel_does_nothing",
     test_article_http_client_response_then_cancel_does_nothing},
    {"article_deferred_list_consume_errors",
     test_article_deferred_list_consume_errors},
    {"article_add_ten_before_the_list", test_article_add_ten_before_the_list},
    {"article_add_ten_after_the_list", test_article_add_ten_after_the_list},
    {"article_add_ten_after_a_list_that_dropped_its_result",
     test_article_add_ten_after_a_list_that_dropped_its_result},
    {"article_gather_results", test_article_gather_results},
    {"article_chain_deferred", test_article_chain_deferred},
    {"article_returning_a_deferred_waits_for_it",
     test_article_returning_a_deferred_waits_for_it},
    {"article_unhandled_error_is_logged_at_release",
     test_article_unhandled_error_is_logged_at_release},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main_framed("article", tests); }
