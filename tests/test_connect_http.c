/* The article's HTTP client (S15, S20), against a real HTTP server on
 * loopback: a completed request, and cancelled ones whose canceller aborts
 * the connection at each stage. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <unistd.h>

#include "dft_dns.h"
#include "dft_dnsmasq.h"
#include "http_get.h"
#include "dft_http_server.h"
#include "dft_loopback.h"

typedef struct world {
  df_reactor *r;
  df_resolver *res;
  dft_http_server *server;
  int port;
} world;

static world world_new(void) {
  world w;
  memset(&w, 0, sizeof w);
  w.r = dft_reactor_new(false);
  w.res = dft_resolver(w.r, &(df_resolver_options){.servers = dft_dns_servers(),
                                                   .timeout_ms = 1000,
                                                   .tries = 2});
  w.server = dft_http_server_new(w.r, &w.port);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w.server);
  return w;
}

typedef size_t (*server_count_fn)(const dft_http_server *s);

typedef struct count_goal {
  server_count_fn count;
  const dft_http_server *server;
  size_t at_least;
} count_goal;

static bool count_reached(const void *arg) {
  const count_goal *g = arg;
  return g->count(g->server) >= g->at_least;
}

/* Runs rounds until the server's counter \p count reaches \p at_least. */
static void run_until_count(const world *w, server_count_fn count,
                            size_t at_least) {
  count_goal goal = {count, w->server, at_least};
  CU_ASSERT(dft_run_until_true(w->r, count_reached, &goal, 10));
}

static void world_free(world *w) {
  dft_http_server_free(w->server);
  CU_ASSERT_EQUAL(dft_dns_teardown(w->r, w->res), 0);
}

static void test_s15_http_get_completes(void) {
  world w = world_new();
  dft_outcome o = {0};
  dft_capture(
      example_http_get(w.r, w.res, "127.0.0.1", (unsigned)w.port, "/", 0), &o);
  CU_ASSERT(dft_run_until(w.r, &o.fired, 10));
  CU_ASSERT_EQUAL(o.fired, 1);
  const example_http_response *resp = o.ok ? o.value.ptr : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
  CU_ASSERT_EQUAL(resp->status, 200);
  CU_ASSERT_STRING_EQUAL(resp->body, DFT_HTTP_BODY);
  CU_ASSERT_EQUAL(resp->body_len, strlen(DFT_HTTP_BODY));
  CU_ASSERT_EQUAL(dft_http_answered(w.server), 1);
  dft_outcome_clear(&o);
  world_free(&w);
}

static void test_s15_http_get_by_name_completes(void) {
  world w = world_new();
  dft_outcome o = {0};
  /* example.test has ::1 first, where nothing listens: the refusal starts
   * the IPv4 attempt, which reaches the server. */
  dft_capture(example_http_get(w.r, w.res, DFT_NAME_BOTH, (unsigned)w.port,
                               "/index.html", 0),
              &o);
  CU_ASSERT(dft_run_until(w.r, &o.fired, 10));
  const example_http_response *resp = o.ok ? o.value.ptr : NULL;
  CU_ASSERT_PTR_NOT_NULL_FATAL(resp);
  CU_ASSERT_EQUAL(resp->status, 200);
  dft_outcome_clear(&o);
  world_free(&w);
}

/* The request is sent and the server never answers: cancel aborts the
 * connection, which the server sees go away. */
static void test_s15_cancel_aborts_the_connection(void) {
  world w = world_new();
  int before = dft_fd_count();
  dft_outcome o = {0};
  df_deferred *d =
      example_http_get(w.r, w.res, "127.0.0.1", (unsigned)w.port, "/hang", 0);
  dft_capture(df_ref(d), &o);
  run_until_count(&w, dft_http_requests, 1);
  CU_ASSERT_EQUAL(dft_http_requests(w.server), 1);
  CU_ASSERT_EQUAL(o.fired, 0);

  df_cancel(d);
  df_unref(d);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CANCELLED);
  run_until_count(&w, dft_http_aborted, 1);
  CU_ASSERT_EQUAL(dft_http_aborted(w.server), 1);
  CU_ASSERT_EQUAL(dft_http_answered(w.server), 0);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
  dft_outcome_clear(&o);
  world_free(&w);
}

/* Cancelled before the name is resolved: Cancelled at once, and the server
 * never hears of it. */
static void test_s20_cancel_before_the_connection_exists(void) {
  world w = world_new();
  dft_outcome o = {0};
  df_deferred *d =
      example_http_get(w.r, w.res, DFT_NAME_BOTH, (unsigned)w.port, "/", 0);
  dft_capture(df_ref(d), &o);
  df_cancel(d);
  df_unref(d);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_CANCELLED);
  CU_ASSERT(dft_drain_resolver(w.r, w.res, 10));
  df_reactor_run_once(w.r, 10);
  CU_ASSERT_EQUAL(dft_http_accepted(w.server), 0);
  dft_outcome_clear(&o);
  world_free(&w);
}

/* A completed request and a cancelled one side by side on one reactor. */
static void test_s15_one_completed_one_cancelled(void) {
  world w = world_new();
  dft_outcome done = {0};
  dft_outcome cancelled = {0};
  dft_capture(
      example_http_get(w.r, w.res, "127.0.0.1", (unsigned)w.port, "/", 0),
      &done);
  df_deferred *d =
      example_http_get(w.r, w.res, "127.0.0.1", (unsigned)w.port, "/hang", 5);
  dft_capture(df_ref(d), &cancelled);
  CU_ASSERT(dft_run_until(w.r, &done.fired, 10));
  run_until_count(&w, dft_http_requests, 2);
  df_cancel(d);
  df_unref(d);
  CU_ASSERT(done.ok);
  CU_ASSERT_PTR_EQUAL(cancelled.type, &DF_CANCELLED);
  run_until_count(&w, dft_http_aborted, 1);
  CU_ASSERT_EQUAL(dft_http_answered(w.server), 1);
  CU_ASSERT_EQUAL(dft_http_aborted(w.server), 1);
  dft_outcome_clear(&done);
  dft_outcome_clear(&cancelled);
  world_free(&w);
}

static CU_TestInfo tests[] = {
    {"test_s15_http_get_completes", test_s15_http_get_completes},
    {"test_s15_http_get_by_name_completes",
     test_s15_http_get_by_name_completes},
    {"test_s15_cancel_aborts_the_connection",
     test_s15_cancel_aborts_the_connection},
    {"test_s20_cancel_before_the_connection_exists",
     test_s20_cancel_before_the_connection_exists},
    {"test_s15_one_completed_one_cancelled",
     test_s15_one_completed_one_cancelled},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_dns_main("connect_http", tests); }
