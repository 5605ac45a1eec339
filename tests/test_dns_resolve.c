/* df_resolve() against a real dnsmasq on loopback (C2): answers of each
 * family, DNS failures, IP literals, bad input, the in-flight limit and its
 * queue, re-entrant lookups, the hosts file, resolver options, running out
 * of memory. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/select.h> /* ares.h uses fd_set */
#include <unistd.h>

#include <ares.h>

#include "dft_alloc.h"
#include "dft_dns.h"
#include "dft_dns_servers.h"
#include "dft_dnsmasq.h"
#include "dft_loopback.h"

static df_resolver *resolver_new(df_reactor *r) {
  return dft_resolver(r, &(df_resolver_options){.servers = dft_dns_servers(),
                                                .timeout_ms = 1000,
                                                .tries = 2});
}

/* Resolves \p host and runs the reactor until it fired. */
static void resolve(df_reactor *r, df_resolver *res, const char *host,
                    int family, dft_outcome *o) {
  dft_capture(df_resolve(res, host, family), o);
  CU_ASSERT(dft_run_until(r, &o->fired, 10));
  CU_ASSERT_EQUAL(o->fired, 1);
}

static const df_addresses *addresses_of(const dft_outcome *o) {
  return o->ok ? (const df_addresses *)o->value.ptr : NULL;
}

/* \p a is the address \p text ("::1", "127.0.0.1"), of its family and
 * length, with port 0. */
static bool is_address(const df_address *a, const char *text) {
  char buf[64];
  int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
  socklen_t len = family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
  df_address_format(a, buf, sizeof buf);
  return a->family == family && a->len == len && strcmp(buf, text) == 0;
}

/* ------------------------------------------------------------ answers */

/* A lookup answered by dnsmasq: the addresses, IPv6 first, then IPv4 (no
 * RFC 6724 sort asked for). */
typedef struct answer_case {
  const char *host;
  int family;
  size_t count;
  const char *addresses[2];
} answer_case;

static void check_answer(const answer_case *c) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = resolver_new(r);
  dft_outcome o = {0};
  resolve(r, res, c->host, c->family, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_PTR_EQUAL(o.value.free, df_addresses_free);
  CU_ASSERT_EQUAL_FATAL(list->count, c->count);
  for (size_t i = 0; i < c->count; i++) {
    CU_ASSERT(is_address(&list->items[i], c->addresses[i]));
  }
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

static void test_c2_resolve_both_families(void) {
  check_answer(
      &(answer_case){DFT_NAME_BOTH, AF_UNSPEC, 2, {"::1", "127.0.0.1"}});
}

static void test_c2_resolve_ipv4_only(void) {
  check_answer(&(answer_case){DFT_NAME_V4ONLY, AF_INET, 1, {"127.0.0.2"}});
}

static void test_c2_resolve_ipv6_only(void) {
  check_answer(&(answer_case){DFT_NAME_BOTH, AF_INET6, 1, {"::1"}});
}

static void test_c2_resolve_host_record_of_both_families(void) {
  check_answer(
      &(answer_case){DFT_NAME_DUAL, AF_UNSPEC, 2, {"::1", "127.0.0.1"}});
  /* An absolute name (final dot) is the same name. */
  check_answer(&(answer_case){DFT_NAME_V6ONLY ".", AF_UNSPEC, 1, {"::1"}});
}

/* ------------------------------------------------------------ failures */

enum server_kind { DNSMASQ, SILENT, CLOSED_PORT };

/* A lookup that fails with a DF_DNS failure naming the host and reason. */
typedef struct failure_case {
  enum server_kind server;
  int timeout_ms;
  int tries;
  const char *host;
  int family;
  int code;
  const char *reason;
} failure_case;

static void check_failure(const failure_case *c) {
  df_reactor *r = dft_reactor_new(false);
  int silent = -1;
  char servers[32];
  if (c->server == SILENT) {
    silent = dft_silent_server(servers);
    CU_ASSERT_FATAL(silent >= 0);
  } else if (c->server == CLOSED_PORT) {
    CU_ASSERT_FATAL(dft_closed_port(servers) != 0);
  } else {
    snprintf(servers, sizeof servers, "%s", dft_dns_servers());
  }
  df_resolver *res =
      dft_resolver(r, &(df_resolver_options){.servers = servers,
                                             .timeout_ms = c->timeout_ms,
                                             .tries = c->tries});
  dft_outcome o = {0};
  resolve(r, res, c->host, c->family, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, c->code);
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, c->host));
  CU_ASSERT_PTR_NOT_NULL(strstr(o.message, c->reason));
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
  if (silent >= 0) {
    close(silent);
  }
}

static void test_c2_nxdomain_fails_naming_host(void) {
  check_failure(&(failure_case){DNSMASQ, 1000, 2, DFT_NAME_MISSING, AF_UNSPEC,
                                ARES_ENOTFOUND, "name not found"});
}

static void test_c2_no_data_fails_with_enodata(void) {
  check_failure(&(failure_case){DNSMASQ, 1000, 2, DFT_NAME_V4ONLY, AF_INET6,
                                ARES_ENODATA, "no address"});
}

static void test_c2_silent_server_times_out(void) {
  check_failure(&(failure_case){SILENT, 250, 1, DFT_NAME_BOTH, AF_INET,
                                ARES_ETIMEOUT, "timed out"});
}

static void test_c2_closed_port_is_server_failure(void) {
  check_failure(&(failure_case){CLOSED_PORT, 1000, 1, DFT_NAME_BOTH, AF_INET,
                                ARES_ECONNREFUSED, "server failure"});
}

/* ------------------------------------------------------------ at once */

static void test_c2_ip_literals_answered_without_query(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = resolver_new(r);
  dft_outcome o = {0};
  /* Fired before the reactor ran at all. */
  dft_capture(df_resolve(res, "127.0.0.1", AF_UNSPEC), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 1);
  CU_ASSERT(is_address(&list->items[0], "127.0.0.1"));
  dft_outcome_clear(&o);

  dft_capture(df_resolve(res, "::1", AF_INET6), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT(is_address(&list->items[0], "::1"));
  dft_outcome_clear(&o);

  /* A literal of the other family has no address of the one asked for. */
  dft_capture(df_resolve(res, "127.0.0.1", AF_INET6), &o);
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  CU_ASSERT_EQUAL(o.code, ARES_ENODATA);
  dft_outcome_clear(&o);

  struct df_resolver_stats st = dft_resolver_stats(res);
  CU_ASSERT_EQUAL(st.started, 0);
  CU_ASSERT_EQUAL(st.pending, 0);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

static void test_c2_bad_input_fails_with_invalid_argument(void) {
  df_reactor *r = dft_reactor_new(false);
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

  dft_expect_invalid(df_resolve(NULL, DFT_NAME_BOTH, AF_INET), "res");
  dft_expect_invalid(df_resolve(res, NULL, AF_INET), "host");
  dft_expect_invalid(df_resolve(res, "", AF_INET), "host");
  dft_expect_invalid(df_resolve(res, long_name, AF_INET), "longer than 253");
  dft_expect_invalid(df_resolve(res, long_label, AF_INET), "label");
  dft_expect_invalid(df_resolve(res, "a..test", AF_INET), "empty label");
  dft_expect_invalid(df_resolve(res, ".", AF_INET), "empty label");
  /* c-ares would read these as addresses, from a half-written buffer. */
  dft_expect_invalid(df_resolve(res, "::127.0.0/1", AF_UNSPEC), "'/'");
  dft_expect_invalid(df_resolve(res, "127.0.0.1/8", AF_INET), "'/'");
  dft_expect_invalid(df_resolve(res, DFT_NAME_BOTH, 12345), "family");

  CU_ASSERT_EQUAL(dft_resolver_stats(res).started, 0);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

static void test_c2_fires_from_the_reactor_not_inside_df_resolve(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = resolver_new(r);
  dft_outcome o = {0};
  dft_capture(df_resolve(res, DFT_NAME_BOTH, AF_INET), &o);
  CU_ASSERT_EQUAL(o.fired, 0);
  CU_ASSERT(dft_run_until(r, &o.fired, 10));
  CU_ASSERT(o.ok);
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
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
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res =
      dft_resolver(r, &(df_resolver_options){.servers = dft_dns_servers(),
                                             .timeout_ms = 1000,
                                             .max_in_flight = 1});
  static const char *const names[5] = {DFT_NAME_BOTH, DFT_NAME_MISSING,
                                       DFT_NAME_V4ONLY, DFT_NAME_DUAL,
                                       DFT_NAME_V6ONLY};
  order_log log = {0};
  order_arg args[5];
  for (int i = 0; i < 5; i++) {
    args[i].log = &log;
    args[i].index = i;
    df_deferred *d = df_resolve(res, names[i], AF_UNSPEC);
    df_add_both(d, note_order, &args[i]);
    df_unref(d);
  }
  struct df_resolver_stats st = dft_resolver_stats(res);
  CU_ASSERT_EQUAL(st.in_flight, 1);
  CU_ASSERT_EQUAL(st.queued, 4);
  CU_ASSERT_EQUAL(st.pending, 5);
  CU_ASSERT(dft_run_until(r, &log.all, 10));
  CU_ASSERT_EQUAL(log.fired, 5);
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(log.order[i], i);
  }
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
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
    df_deferred *d = df_resolve(s->res, DFT_NAME_BOTH, AF_UNSPEC);
    df_add_both(d, next_lookup, s);
    df_unref(d);
  } else {
    s->done = 1;
  }
  return df_ok(NULL, NULL);
}

static void test_s11_callback_starts_the_next_lookup(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = resolver_new(r);
  chain_state s = {res, 0, 0};
  df_deferred *d = df_resolve(res, DFT_NAME_BOTH, AF_UNSPEC);
  df_add_both(d, next_lookup, &s);
  df_unref(d);
  CU_ASSERT(dft_run_until(r, &s.done, 10));
  CU_ASSERT_EQUAL(s.answers, 3);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

/* ------------------------------------------------------------ memory */

/* Memory runs out once the query is on the wire: the lookup still ends,
 * once, with DF_NO_MEMORY. c-ares allocates through the library's
 * allocator, so an answer cannot be parsed; a silent server's
 * retransmissions and timeout need no memory, but the failure that reports
 * the timeout cannot be made, and the static DF_NO_MEMORY stands in. */
static void check_ends_without_memory(const char *servers, int timeout_ms) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = dft_resolver(
      r, &(df_resolver_options){
             .servers = servers, .timeout_ms = timeout_ms, .tries = 2});
  dft_outcome o = {0};
  dft_capture(df_resolve(res, DFT_NAME_BOTH, AF_INET), &o);
  dft_alloc_fail_from(1);
  CU_ASSERT(dft_run_until(r, &o.fired, 10));
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL(o.fired, 1);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_NO_MEMORY);
  CU_ASSERT_EQUAL(dft_resolver_stats(res).pending, 0);
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

static void test_c2_lookup_ends_when_memory_runs_out(void) {
  check_ends_without_memory(dft_dns_servers(), 1000);
  char servers[32];
  int silent = dft_silent_server(servers);
  CU_ASSERT_FATAL(silent >= 0);
  check_ends_without_memory(servers, 250);
  close(silent);
}

/* ------------------------------------------------------------ options */

static void test_c2_hosts_file_option(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res =
      dft_resolver(r, &(df_resolver_options){.servers = dft_dns_servers(),
                                             .timeout_ms = 1000,
                                             .hosts_file = true});
  dft_outcome o = {0};
  /* "localhost" is in every hosts file; dnsmasq here knows nothing of it. */
  resolve(r, res, "localhost", AF_INET, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT(is_address(&list->items[0], "127.0.0.1"));
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);

  r = dft_reactor_new(false);
  res = resolver_new(r); /* hosts file off */
  resolve(r, res, "localhost", AF_INET, &o);
  CU_ASSERT_FALSE(o.ok);
  CU_ASSERT_PTR_EQUAL(o.type, &DF_DNS);
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

static void test_c2_rfc6724_sort_option(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res =
      dft_resolver(r, &(df_resolver_options){.servers = dft_dns_servers(),
                                             .timeout_ms = 1000,
                                             .rfc6724_sort = true});
  dft_outcome o = {0};
  resolve(r, res, DFT_NAME_BOTH, AF_UNSPEC, &o);
  const df_addresses *list = addresses_of(&o);
  CU_ASSERT_PTR_NOT_NULL_FATAL(list);
  CU_ASSERT_EQUAL(list->count, 2);
  dft_outcome_clear(&o);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
}

static void test_c2_resolver_new_rejects_bad_options(void) {
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = (df_resolver *)&res;
  df_resolver_options opts = {0};
  CU_ASSERT_EQUAL(df_resolver_new(NULL, r, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_resolver_new(&res, NULL, NULL), DF_EINVAL);
  CU_ASSERT_PTR_NULL(res);
  opts.servers = "dns://127.0.0.1:53";
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.servers = "not a server";
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.servers = dft_dns_servers();
  opts.timeout_ms = -1;
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.timeout_ms = 0;
  opts.tries = -1;
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  opts.tries = 0;
  opts.max_in_flight = -1;
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, &opts), DF_EINVAL);
  CU_ASSERT_PTR_NULL(res);
  /* Out of memory for the resolver's timers: an error, nothing left. */
  for (long n = 1; n <= 2; n++) {
    dft_alloc_fail_nth(n);
    CU_ASSERT_EQUAL(df_resolver_new(&res, r, NULL), DF_ENOMEM);
    dft_alloc_fail_none();
    CU_ASSERT_PTR_NULL(res);
  }
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  r = dft_reactor_new(false);
  /* Defaults: the system's servers; nothing is sent until a lookup. */
  CU_ASSERT_EQUAL(df_resolver_new(&res, r, NULL), 0);
  CU_ASSERT_PTR_NOT_NULL(res);
  df_resolver_free(NULL);
  CU_ASSERT_EQUAL(df_resolver_stats(NULL, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
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
  int before = dft_fd_count();
  df_reactor *r = dft_reactor_new(false);
  df_resolver *res = resolver_new(r);
  dft_outcome o = {0};
  resolve(r, res, DFT_NAME_BOTH, AF_UNSPEC, &o);
  dft_outcome_clear(&o);
  /* The channel keeps its UDP socket between lookups: the reactor is busy
   * until the resolver is freed. */
  CU_ASSERT(dft_resolver_stats(res).sockets >= 1);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  CU_ASSERT_EQUAL(dft_dns_teardown(r, res), 0);
  CU_ASSERT_EQUAL(dft_fd_count(), before);
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
    {"test_c2_lookup_ends_when_memory_runs_out",
     test_c2_lookup_ends_when_memory_runs_out},
    {"test_c2_hosts_file_option", test_c2_hosts_file_option},
    {"test_c2_rfc6724_sort_option", test_c2_rfc6724_sort_option},
    {"test_c2_resolver_new_rejects_bad_options",
     test_c2_resolver_new_rejects_bad_options},
    {"test_c2_address_format", test_c2_address_format},
    {"test_c2_no_descriptor_left_after_free",
     test_c2_no_descriptor_left_after_free},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_dns_main("dns_resolve", tests); }
