/* df_resolve() against a real dnsmasq on loopback (C2): answers of each
 * family, DNS failures, IP literals, bad input, the in-flight limit and its
 * queue, re-entrant lookups, the hosts file, resolver options. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/select.h> /* ares.h uses fd_set */
#include <unistd.h>

#include <ares.h>

#include "dns_fixture.h"
#include "dns_servers.h"
#include "dnsmasq.h"
#include "loopback.h"
#include "runner.h"

static df_test_dnsmasq dns;

static df_reactor *reactor_new(void) {
  df_reactor *r = NULL;
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  return r;
}

static df_resolver *resolver_with(df_reactor *r, df_resolver_options *o) {
  df_resolver *res = NULL;
  CU_ASSERT_EQUAL_FATAL(df_resolver_new(&res, r, o), 0);
  return res;
}

static df_resolver *resolver_new(df_reactor *r) {
  df_resolver_options o = {0};
  o.servers = dns.servers;
  o.timeout_ms = 1000;
  o.tries = 2;
  return resolver_with(r, &o);
}

/* Resolves \p host and runs the reactor until it fired. */
static void resolve(df_reactor *r, df_resolver *res, const char *host,
                    int family, df_test_outcome *o) {
  df_test_capture(df_resolve(res, host, family), o);
  CU_ASSERT(df_test_run_until(r, &o->fired, 10));
  CU_ASSERT_EQUAL(o->fired, 1);
}

static const df_addresses *addresses_of(const df_test_outcome *o) {
  return o->ok ? (const df_addresses *)o->value.ptr : NULL;
}

static bool is_address(const df_address *a, int family, const char *text) {
  char buf[64];
  df_address_format(a, buf, sizeof buf);
  return a->family == family && strcmp(buf, text) == 0;
}

static void test_c2_resolve_both_families(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_BOTH, AF_UNSPEC, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 2);
  CU_ASSERT_PTR_EQUAL(o.value.free, df_addresses_free);
  /* IPv6 first, then IPv4 (no RFC 6724 sort asked for). */
  CU_ASSERT(is_address(&list->items[0], AF_INET6, "::1"));
  CU_ASSERT(is_address(&list->items[1], AF_INET, "127.0.0.1"));
  CU_ASSERT_EQUAL(list->items[0].len, sizeof(struct sockaddr_in6));
  CU_ASSERT_EQUAL(list->items[1].len, sizeof(struct sockaddr_in));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_resolve_ipv4_only(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_V4ONLY, AF_INET, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 1);
  CU_ASSERT(is_address(&list->items[0], AF_INET, "127.0.0.2"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_resolve_ipv6_only(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_BOTH, AF_INET6, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 1);
  CU_ASSERT(is_address(&list->items[0], AF_INET6, "::1"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_resolve_host_record_of_both_families(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_DUAL, AF_UNSPEC, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 2);
  df_test_outcome_clear(&o);
  /* An absolute name (final dot) is the same name. */
  resolve(r, res, DF_TEST_NAME_V6ONLY ".", AF_UNSPEC, &o);
  list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 1);
  CU_ASSERT(is_address(&list->items[0], AF_INET6, "::1"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_nxdomain_fails_naming_host(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_MISSING, AF_UNSPEC, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ENOTFOUND);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, DF_TEST_NAME_MISSING));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "name not found"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_no_data_fails_with_enodata(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_V4ONLY, AF_INET6, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ENODATA);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, DF_TEST_NAME_V4ONLY));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "no address"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_silent_server_times_out(void) {
  df_reactor *r = reactor_new();
  int port = 0;
  char servers[32];
  int silent = df_test_silent_server(&port, servers);
  CU_ASSERT_FATAL(silent >= 0);
  df_resolver_options opts = {0};
  opts.servers = servers;
  opts.timeout_ms = 250;
  opts.tries = 1;
  df_resolver *res = resolver_with(r, &opts);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_BOTH, AF_INET, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ETIMEOUT);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "timed out"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
  close(silent);
}

static void test_c2_closed_port_is_server_failure(void) {
  df_reactor *r = reactor_new();
  char servers[32];
  CU_ASSERT_FATAL(df_test_closed_port(servers) != 0);
  df_resolver_options opts = {0};
  opts.servers = servers;
  opts.timeout_ms = 1000;
  opts.tries = 1;
  df_resolver *res = resolver_with(r, &opts);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_BOTH, AF_INET, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ECONNREFUSED);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, "server failure"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_ip_literals_answered_without_query(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  /* Fired before the reactor ran at all. */
  df_test_capture(df_resolve(res, "127.0.0.1", AF_UNSPEC), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 1);
  CU_ASSERT(is_address(&list->items[0], AF_INET, "127.0.0.1"));
  df_test_outcome_clear(&o);

  df_test_capture(df_resolve(res, "::1", AF_INET6), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT(is_address(&list->items[0], AF_INET6, "::1"));
  df_test_outcome_clear(&o);

  /* A literal of the other family has no address of the one asked for. */
  df_test_capture(df_resolve(res, "127.0.0.1", AF_INET6), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ENODATA);
  df_test_outcome_clear(&o);

  df_resolver_stats st;
  CU_ASSERT_EQUAL(df_resolver_stats_get(res, &st), 0);
  CU_ASSERT_EQUAL(st.started, 0);
  CU_ASSERT_EQUAL(st.pending, 0);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void expect_invalid(df_deferred *d, const char *names) {
  df_test_outcome o = {0};
  df_test_capture(d, &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_INVALID_ARGUMENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, names));
  df_test_outcome_clear(&o);
}

static void test_c2_bad_input_fails_with_invalid_argument(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  char long_name[300];
  memset(long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  for (size_t i = 50; i < sizeof long_name - 1; i += 50) {
    long_name[i] = '.';
  }
  char long_label[80];
  memset(long_label, 'b', 64);
  strcpy(long_label + 64, ".test");

  expect_invalid(df_resolve(NULL, DF_TEST_NAME_BOTH, AF_INET), "res");
  expect_invalid(df_resolve(res, NULL, AF_INET), "host");
  expect_invalid(df_resolve(res, "", AF_INET), "host");
  expect_invalid(df_resolve(res, long_name, AF_INET), "longer than 253");
  expect_invalid(df_resolve(res, long_label, AF_INET), "label");
  expect_invalid(df_resolve(res, "a..test", AF_INET), "empty label");
  expect_invalid(df_resolve(res, ".", AF_INET), "empty label");
  expect_invalid(df_resolve(res, DF_TEST_NAME_BOTH, 12345), "family");

  df_resolver_stats st;
  CU_ASSERT_EQUAL(df_resolver_stats_get(res, &st), 0);
  CU_ASSERT_EQUAL(st.started, 0);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_fires_from_the_reactor_not_inside_df_resolve(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  df_test_capture(df_resolve(res, DF_TEST_NAME_BOTH, AF_INET), &o);
  CU_ASSERT_EQUAL(o.fired, 0);
  CU_ASSERT(df_test_run_until(r, &o.fired, 10));
  CU_ASSERT(o.ok);
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

/* ------------------------------------------------------------ queue */

typedef struct order_log {
  int fired;
  int all; /* set when the fifth fired */
  int order[8];
} order_log;

typedef struct order_arg {
  order_log *log;
  int index;
} order_arg;

static df_result note_order(df_result in, void *arg) {
  order_arg *a = arg;
  a->log->order[a->log->fired++] = a->index;
  a->log->all = a->log->fired == 5;
  df_result_free(in);
  return df_ok(NULL, NULL);
}

static void test_c2_lookups_beyond_the_limit_wait_in_fifo_order(void) {
  df_reactor *r = reactor_new();
  df_resolver_options opts = {0};
  opts.servers = dns.servers;
  opts.timeout_ms = 1000;
  opts.max_in_flight = 1;
  df_resolver *res = resolver_with(r, &opts);
  static const char *const names[5] = {DF_TEST_NAME_BOTH, DF_TEST_NAME_MISSING,
                                       DF_TEST_NAME_V4ONLY, DF_TEST_NAME_DUAL,
                                       DF_TEST_NAME_V6ONLY};
  order_log log = {0};
  order_arg args[5];
  for (int i = 0; i < 5; i++) {
    args[i].log = &log;
    args[i].index = i;
    df_deferred *d = df_resolve(res, names[i], AF_UNSPEC);
    df_add_both(d, note_order, &args[i]);
    df_unref(d);
  }
  df_resolver_stats st;
  CU_ASSERT_EQUAL(df_resolver_stats_get(res, &st), 0);
  CU_ASSERT_EQUAL(st.in_flight, 1);
  CU_ASSERT_EQUAL(st.queued, 4);
  CU_ASSERT_EQUAL(st.pending, 5);
  CU_ASSERT(df_test_run_until(r, &log.all, 10));
  CU_ASSERT_EQUAL(log.fired, 5);
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(log.order[i], i);
  }
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

/* ------------------------------------------------------------ re-entrance */

typedef struct chain_state {
  df_resolver *res;
  int answers;
  int done;
} chain_state;

/* S11: a callback starts the next lookup on the same resolver. */
static df_result next_lookup(df_result in, void *arg) {
  chain_state *s = arg;
  if (!df_result_is_failure(in)) {
    s->answers++;
  }
  df_result_free(in);
  if (s->answers < 3) {
    df_deferred *d = df_resolve(s->res, DF_TEST_NAME_BOTH, AF_UNSPEC);
    df_add_both(d, next_lookup, s);
    df_unref(d);
  } else {
    s->done = 1;
  }
  return df_ok(NULL, NULL);
}

static void test_s11_callback_starts_the_next_lookup(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  chain_state s = {res, 0, 0};
  df_deferred *d = df_resolve(res, DF_TEST_NAME_BOTH, AF_UNSPEC);
  df_add_both(d, next_lookup, &s);
  df_unref(d);
  CU_ASSERT(df_test_run_until(r, &s.done, 10));
  CU_ASSERT_EQUAL(s.answers, 3);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

/* ------------------------------------------------------------ options */

static void test_c2_hosts_file_option(void) {
  df_reactor *r = reactor_new();
  df_resolver_options opts = {0};
  opts.servers = dns.servers;
  opts.timeout_ms = 1000;
  opts.hosts_file = true;
  df_resolver *res = resolver_with(r, &opts);
  df_test_outcome o = {0};
  /* "localhost" is in every hosts file; dnsmasq here knows nothing of it. */
  resolve(r, res, "localhost", AF_INET, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT(is_address(&list->items[0], AF_INET, "127.0.0.1"));
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);

  r = reactor_new();
  res = resolver_new(r); /* hosts file off */
  resolve(r, res, "localhost", AF_INET, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_rfc6724_sort_option(void) {
  df_reactor *r = reactor_new();
  df_resolver_options opts = {0};
  opts.servers = dns.servers;
  opts.timeout_ms = 1000;
  opts.rfc6724_sort = true;
  df_resolver *res = resolver_with(r, &opts);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_BOTH, AF_UNSPEC, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 2);
  df_test_outcome_clear(&o);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_resolver_new_rejects_bad_options(void) {
  df_reactor *r = reactor_new();
  df_resolver *res = (df_resolver *)&res;
  df_resolver_options opts = {0};
  CU_ASSERT_EQUAL(df_resolver_new(NULL, r, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_resolver_new(&res, NULL, NULL), DF_EINVAL);
  CU_ASSERT_PTR_NULL(res);
  opts.servers = "dns://127.0.0.1:53";
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.servers = "not a server";
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.servers = dns.servers;
  opts.timeout_ms = -1;
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.timeout_ms = 0;
  opts.tries = -1;
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.tries = 0;
  opts.max_in_flight = -1;
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  CU_ASSERT_PTR_NULL(res);
  /* Defaults: the system's servers; nothing is sent until a lookup. */
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(res);
  df_resolver_free(NULL);
  CU_ASSERT_EQUAL(df_resolver_stats_get(NULL, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
}

static void test_c2_address_format(void) {
  df_address a;
  memset(&a, 0, sizeof a);
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.addr;
  a.family = AF_INET6;
  a.len = sizeof *sin6;
  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr = in6addr_loopback;
  char buf[64];
  CU_ASSERT_EQUAL(df_address_format(&a, buf, sizeof buf), 3);
  CU_ASSERT_STRING_EQUAL(buf, "::1");
  sin6->sin6_port = htons(8080);
  CU_ASSERT_EQUAL(df_address_format(&a, buf, sizeof buf), 10);
  CU_ASSERT_STRING_EQUAL(buf, "[::1]:8080");
  /* Truncated like snprintf: the full length is returned. */
  CU_ASSERT_EQUAL(df_address_format(&a, buf, 4), 10);
  CU_ASSERT_STRING_EQUAL(buf, "[::");
  df_address_format(NULL, buf, sizeof buf);
  CU_ASSERT_STRING_EQUAL(buf, "(null)");
  df_addresses_free(NULL);
}

static void test_c2_no_descriptor_left_after_free(void) {
  int before = df_test_fd_count();
  df_reactor *r = reactor_new();
  df_resolver *res = resolver_new(r);
  df_test_outcome o = {0};
  resolve(r, res, DF_TEST_NAME_BOTH, AF_UNSPEC, &o);
  df_test_outcome_clear(&o);
  /* The channel keeps its UDP socket between lookups: the reactor is busy
   * until the resolver is freed. */
  df_resolver_stats st;
  CU_ASSERT_EQUAL(df_resolver_stats_get(res, &st), 0);
  CU_ASSERT(st.sockets >= 1);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  CU_ASSERT_EQUAL(df_test_teardown(r, res), 0);
  CU_ASSERT_EQUAL(df_test_fd_count(), before);
}

static int suite_init(void) { return df_test_dnsmasq_start(&dns) == 0 ? 0 : 1; }

static int suite_cleanup(void) {
  df_test_dnsmasq_stop(&dns);
  return 0;
}

static CU_TestInfo tests[] = {
    {"test_c2_resolve_both_families", test_c2_resolve_both_families},
    {"test_c2_resolve_ipv4_only", test_c2_resolve_ipv4_only},
    {"test_c2_resolve_ipv6_only", test_c2_resolve_ipv6_only},
    {"test_c2_resolve_host_record_of_both_families",
     test_c2_resolve_host_record_of_both_families},
    {"test_c2_nxdomain_fails_naming_host", test_c2_nxdomain_fails_naming_host},
    {"test_c2_no_data_fails_with_enodata", test_c2_no_data_fails_with_enodata},
    {"test_c2_silent_server_times_out", test_c2_silent_server_times_out},
    {"test_c2_closed_port_is_server_failure",
     test_c2_closed_port_is_server_failure},
    {"test_c2_ip_literals_answered_without_query",
     test_c2_ip_literals_answered_without_query},
    {"test_c2_bad_input_fails_with_invalid_argument",
     test_c2_bad_input_fails_with_invalid_argument},
    {"test_c2_fires_from_the_reactor_not_inside_df_resolve",
     test_c2_fires_from_the_reactor_not_inside_df_resolve},
    {"test_c2_lookups_beyond_the_limit_wait_in_fifo_order",
     test_c2_lookups_beyond_the_limit_wait_in_fifo_order},
    {"test_s11_callback_starts_the_next_lookup",
     test_s11_callback_starts_the_next_lookup},
    {"test_c2_hosts_file_option", test_c2_hosts_file_option},
    {"test_c2_rfc6724_sort_option", test_c2_rfc6724_sort_option},
    {"test_c2_resolver_new_rejects_bad_options",
     test_c2_resolver_new_rejects_bad_options},
    {"test_c2_address_format", test_c2_address_format},
    {"test_c2_no_descriptor_left_after_free",
     test_c2_no_descriptor_left_after_free},
    CU_TEST_INFO_NULL,
};

int main(void) {
  return df_test_run("dns_resolve", tests, suite_init, suite_cleanup);
}
