/* The DNS stage cannot be interrupted (S20, C2): cancelling a lookup fails
 * it with Cancelled at once while the query runs on, and its late answer or
 * late timeout is discarded and freed. Freeing the resolver fails every
 * pending lookup exactly once, also when c-ares 1.18 hands back half an
 * answer while it is torn down. */
#define _POSIX_C_SOURCE 200809L

#include <string.h>
#include <sys/select.h> /* ares.h uses fd_set */
#include <unistd.h>

#include <ares.h>

#include "dft_dns.h"
#include "dft_dns_servers.h"
#include "dft_dnsmasq.h"
#include "dft_loopback.h"

/* Lookups that must time out do so after 250 ms; lookups that must not
 * (the resolver is freed under them) get 30 s, far beyond any stall of a
 * loaded machine. */
#define TIMES_OUT 250
#define NEVER_TIMES_OUT 30000

static df_resolver *resolver_for(df_reactor *r, const char *servers,
                                 int timeout_ms, int max_in_flight) {
  return dft_resolver(r,
                      &(df_resolver_options){.servers = servers,
                                             .timeout_ms = timeout_ms,
                                             .tries = 1,
                                             .max_in_flight = max_in_flight});
}

static void assert_cancelled(const dft_outcome *o) {
  CU_ASSERT_EQUAL(o->fired, 1);
  CU_ASSERT_FALSE(o->ok);
  CU_ASSERT_PTR_EQUAL(o->type, &DF_CANCELLED);
}

static bool has_socket(const void *res) {
  return dft_resolver_stats(res).sockets > 0;
}

/* Runs rounds until the query has left (the resolver has a socket). */
static void run_until_sent(df_reactor *r, df_resolver *res) {
  CU_ASSERT(dft_run_until_true(r, has_socket, res, 10));
}

static void test_s20_cancel_during_lookup_discards_late_timeout(void) {
  int before = dft_fd_count();
  df_reactor *r = dft_reactor_new(false);
  char servers[32];
  int silent = dft_silent_server(servers);
  CU_ASSERT_FATAL(silent >= 0);
  df_resolver *res = resolver_for(r, servers, TIMES_OUT, 0);
  dft_outcome o = {0};
  df_deferred *d = df_resolve(res, DFT_NAME_BOTH, AF_UNSPEC);
  dft_capture(df_ref(d), &o);
  run_until_sent(r, res);
  CU_ASSERT_EQUAL(dft_resolver_stats(res).in_flight, 1);

  df_cancel(d); /* no canceller: Cancelled at once (S16) */
  assert_cancelled(&o);
  df_cancel(d); /* S14: again, harmless */
  df_unref(d);
  CU_ASSERT_EQUAL(dft_resolver_stats(res).pending, 1); /* the lookup runs on */

  CU_ASSERT(dft_drain_resolver(r, res, 10));
  struct df_resolver_stats st = dft_resolver_stats(res);
  CU_ASSERT_EQUAL(st.answered, 1);
  CU_ASSERT_EQUAL(st.discarded, 1);
  CU_ASSERT_EQUAL(st.in_flight, 0);
  CU_ASSERT_EQUAL(o.fired, 1); /* S17: the late timeout was swallowed */
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
  close(silent);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
}

static void test_s20_cancel_during_lookup_discards_late_answer(void) {
  int before = dft_fd_count();
  df_reactor *r = dft_reactor_new(false);
  dft_responder *slow = dft_responder_new(r, 0.3, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
  df_resolver *res =
      resolver_for(r, dft_responder_servers(slow), NEVER_TIMES_OUT, 0);
  dft_outcome out = {0};
  df_deferred *d = df_resolve(res, DFT_NAME_BOTH, AF_INET);
  dft_capture(df_ref(d), &out);
  run_until_sent(r, res);
  df_cancel(d);
  df_unref(d);
  assert_cancelled(&out);

  CU_ASSERT(dft_drain_resolver(r, res, 10));
  CU_ASSERT(dft_responder_replies(slow) >= 1);
  struct df_resolver_stats st = dft_resolver_stats(res);
  CU_ASSERT_EQUAL(st.answered, 1);
  CU_ASSERT_EQUAL(st.discarded, 1);
  CU_ASSERT_EQUAL(out.fired, 1);
  dft_outcome_clear(&out);
  df_resolver_free(res);
  dft_responder_free(slow);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, NULL), 0);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
}

static void test_s20_cancelled_queued_lookup_is_never_sent(void) {
  df_reactor *r = dft_reactor_new(false);
  char servers[32];
  int silent = dft_silent_server(servers);
  CU_ASSERT_FATAL(silent >= 0);
  df_resolver *res = resolver_for(r, servers, TIMES_OUT, 1);
  dft_outcome first = {0};
  dft_outcome second = {0};
  dft_capture(df_resolve(res, DFT_NAME_BOTH, AF_INET), &first);
  df_deferred *d = df_resolve(res, DFT_NAME_DUAL, AF_INET);
  dft_capture(df_ref(d), &second);
  CU_ASSERT_EQUAL(dft_resolver_stats(res).queued, 1);
  df_cancel(d);
  df_unref(d);
  assert_cancelled(&second);

  CU_ASSERT(dft_drain_resolver(r, res, 10));
  CU_ASSERT_EQUAL(first.fired, 1);
  CU_ASSERT_EQUAL(first.code, ARES_ETIMEOUT);
  struct df_resolver_stats st = dft_resolver_stats(res);
  CU_ASSERT_EQUAL(st.started, 1);
  CU_ASSERT_EQUAL(st.queued, 0);
  CU_ASSERT_EQUAL(second.fired, 1);
  dft_outcome_clear(&first);
  dft_outcome_clear(&second);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
  close(silent);
}

static void test_s18_cancel_after_answer_changes_nothing(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = resolver_for(r, dft_dns_servers(), NEVER_TIMES_OUT, 0);
  dft_outcome o = {0};
  df_deferred *d = df_resolve(res, DFT_NAME_BOTH, AF_INET);
  dft_capture(df_ref(d), &o);
  CU_ASSERT(dft_run_until(r, &o.fired, 10));
  df_cancel(d);
  df_unref(d);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT(o.ok);
  CU_ASSERT_EQUAL(dft_resolver_stats(res).discarded, 0);
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

/* ------------------------------------------------------------ free */

typedef struct order_log {
  int fired;
  int order[8];
  int closed; /* failures "resolver closed" with ARES_EDESTRUCTION */
} order_log;

typedef struct order_arg {
  order_log *log;
  int index;
} order_arg;

static df_result note(df_result in, void *arg) {
  order_arg *a = arg;
  a->log->order[a->log->fired++] = a->index;
  const df_failure *f = df_result_failure(in);
  if (f != NULL && df_failure_type(f) == &DF_DNS &&
      df_failure_code(f) == ARES_EDESTRUCTION &&
      strstr(df_failure_message(f), "resolver closed") != NULL) {
    a->log->closed++;
  }
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_c2_free_fails_each_pending_lookup_once_in_order(void) {
  int before = dft_fd_count();
  df_reactor *r = dft_reactor_new(false);
  char servers[32];
  int silent = dft_silent_server(servers);
  CU_ASSERT_FATAL(silent >= 0);
  df_resolver *res = resolver_for(r, servers, NEVER_TIMES_OUT, 3);
  order_log log = {0};
  order_arg args[5];
  for (int i = 0; i < 5; i++) {
    args[i].log = &log;
    args[i].index = i;
    df_deferred *d = df_resolve(res, DFT_NAME_BOTH, AF_UNSPEC);
    df_add_both(d, note, &args[i]);
    df_unref(d);
  }
  run_until_sent(r, res);
  struct df_resolver_stats st = dft_resolver_stats(res);
  CU_ASSERT_EQUAL(st.in_flight, 3);
  CU_ASSERT_EQUAL(st.queued, 2);
  CU_ASSERT_EQUAL(log.fired, 0);

  df_resolver_free(res);
  CU_ASSERT_EQUAL(log.fired, 5);
  CU_ASSERT_EQUAL(log.closed, 5);
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(log.order[i], i);
  }
  CU_ASSERT_EQUAL(dft_dns_teardown(r, NULL), 0);
  close(silent);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
}

static bool replied(const void *responder) {
  return dft_responder_replies(responder) > 0;
}

/* c-ares 1.18 completes a two-family lookup with SUCCESS and the half it
 * has when the channel is destroyed: the resolver must still say closed. */
static void test_c2_free_after_half_an_answer_reports_closed(void) {
  df_reactor *r = dft_reactor_new(false);
  dft_responder *half = dft_responder_new(r, 0, DFT_RESPONDER_DROP_AAAA);
  CU_ASSERT_PTR_NOT_NULL_FATAL(half);
  df_resolver *res =
      resolver_for(r, dft_responder_servers(half), NEVER_TIMES_OUT, 0);
  order_log log = {0};
  order_arg arg = {&log, 0};
  df_deferred *d = df_resolve(res, DFT_NAME_BOTH, AF_UNSPEC);
  df_add_both(d, note, &arg);
  df_unref(d);
  /* Until the A answer is back and read by c-ares. */
  CU_ASSERT(dft_run_until_true(r, replied, half, 10));
  CU_ASSERT_EQUAL(dft_responder_queries(half), 2);
  CU_ASSERT_EQUAL(dft_responder_replies(half), 1);
  df_reactor_run_once(r, 10);
  df_reactor_run_once(r, 0);
  CU_ASSERT_EQUAL(log.fired, 0);

  df_resolver_free(res);
  CU_ASSERT_EQUAL(log.fired, 1);
  CU_ASSERT_EQUAL(log.closed, 1);
  dft_responder_free(half);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, NULL), 0);
}

typedef struct free_from_callback {
  df_resolver *res;
  int freed;
  int closing_lookups; /* df_resolve() on the closing resolver */
} free_from_callback;

static df_result free_resolver(df_result in, void *arg) {
  free_from_callback *s = arg;
  df_result_free(in);
  df_resolver_free(s->res);
  s->freed = 1;
  return df_ok(NULL, NULL);
}

/* While the resolver is being freed, a callback asks it for more. */
static df_result resolve_again(df_result in, void *arg) {
  free_from_callback *s = arg;
  dft_outcome o = {0};
  dft_capture(df_resolve(s->res, DFT_NAME_BOTH, AF_INET), &o);
  if (o.fired == 1 && o.type == &DF_DNS && o.code == ARES_EDESTRUCTION) {
    s->closing_lookups++;
  }
  dft_outcome_clear(&o);
  return in; /* on to note() */
}

static void test_c2_free_from_a_lookup_callback(void) {
  df_reactor *r = dft_reactor_new(false);
  dft_responder *half = dft_responder_new(r, 0, DFT_RESPONDER_DROP_AAAA);
  CU_ASSERT_PTR_NOT_NULL_FATAL(half);
  df_resolver *res =
      resolver_for(r, dft_responder_servers(half), NEVER_TIMES_OUT, 0);
  free_from_callback s = {res, 0, 0};
  order_log log = {0};
  order_arg arg = {&log, 1};
  /* The A lookup is answered; the AAAA lookup never is. */
  df_deferred *v6 = df_resolve(res, DFT_NAME_BOTH, AF_INET6);
  df_add_both(v6, resolve_again, &s);
  df_add_both(v6, note, &arg);
  df_unref(v6);
  df_deferred *v4 = df_resolve(res, DFT_NAME_BOTH, AF_INET);
  df_add_both(v4, free_resolver, &s);
  df_unref(v4);

  CU_ASSERT(dft_run_until(r, &s.freed, 10));
  CU_ASSERT_EQUAL(log.fired, 1);
  CU_ASSERT_EQUAL(log.closed, 1);
  CU_ASSERT_EQUAL(s.closing_lookups, 1);
  dft_responder_free(half);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, NULL), 0);
}

static void test_c2_retransmission_is_answered(void) {
  df_reactor *r = dft_reactor_new(false);
  /* Slower than the first try: c-ares retransmits, and takes the answer
   * to either transmission. */
  dft_responder *slow = dft_responder_new(r, 0.3, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
  df_resolver *res = dft_resolver(
      r, &(df_resolver_options){.servers = dft_responder_servers(slow),
                                .timeout_ms = TIMES_OUT,
                                .tries = 3});
  dft_outcome out = {0};
  dft_capture(df_resolve(res, DFT_NAME_BOTH, AF_INET), &out);
  CU_ASSERT(dft_run_until(r, &out.fired, 10));
  CU_ASSERT(out.ok);
  CU_ASSERT(dft_responder_queries(slow) >= 2);
  dft_outcome_clear(&out);
  df_resolver_free(res);
  dft_responder_free(slow);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, NULL), 0);
}

static CU_TestInfo tests[] = {
    {"test_s20_cancel_during_lookup_discards_late_timeout",
     test_s20_cancel_during_lookup_discards_late_timeout},
    {"test_s20_cancel_during_lookup_discards_late_answer",
     test_s20_cancel_during_lookup_discards_late_answer},
    {"test_s20_cancelled_queued_lookup_is_never_sent",
     test_s20_cancelled_queued_lookup_is_never_sent},
    {"test_s18_cancel_after_answer_changes_nothing",
     test_s18_cancel_after_answer_changes_nothing},
    {"test_c2_free_fails_each_pending_lookup_once_in_order",
     test_c2_free_fails_each_pending_lookup_once_in_order},
    {"test_c2_free_after_half_an_answer_reports_closed",
     test_c2_free_after_half_an_answer_reports_closed},
    {"test_c2_free_from_a_lookup_callback",
     test_c2_free_from_a_lookup_callback},
    {"test_c2_retransmission_is_answered", test_c2_retransmission_is_answered},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_dns_main("dns_cancel", tests); }
