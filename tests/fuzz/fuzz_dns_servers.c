/* Fuzz target: server lists (df_resolver_options.servers). The strict
 * parser df__dns_parse_servers() either refuses a list with DF_EINVAL and
 * leaves nothing allocated, or gives one node per entry; written back as
 * text, the nodes parse again to the same nodes; and df_resolver_new()
 * accepts exactly the lists the parser accepts. Input: the list, up to its
 * first NUL. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deferred/reactor.h"
#include "dns_fuzz.h"
#include "dns_internal.h"

#define MAX_INPUT 512

static size_t entries(const char *csv) {
  size_t n = 1;
  for (; *csv != '\0'; csv++)
    n += *csv == ',';
  return n;
}

/* The nodes as a server list; false when \p out is too small. */
static bool format(const struct ares_addr_port_node *n, char *out, size_t len) {
  size_t used = 0;
  for (; n != NULL; n = n->next) {
    char addr[INET6_ADDRSTRLEN];
    DNS_FUZZ_CHECK(inet_ntop(n->family, &n->addr, addr, sizeof addr) != NULL,
                   "a node inet_ntop cannot write");
    const char *open = n->family == AF_INET6 ? "[" : "";
    const char *close = n->family == AF_INET6 ? "]" : "";
    int w = n->udp_port != 0
                ? snprintf(out + used, len - used, "%s%s%s%s:%d",
                           used ? "," : "", open, addr, close, n->udp_port)
                : snprintf(out + used, len - used, "%s%s%s%s", used ? "," : "",
                           open, addr, close);
    if (w < 0 || (size_t)w >= len - used)
      return false;
    used += (size_t)w;
  }
  return true;
}

static void same_nodes(const struct ares_addr_port_node *a,
                       const struct ares_addr_port_node *b) {
  for (; a != NULL && b != NULL; a = a->next, b = b->next) {
    size_t size = a->family == AF_INET ? 4 : 16;
    DNS_FUZZ_CHECK(a->family == b->family && a->udp_port == b->udp_port &&
                       a->tcp_port == b->tcp_port &&
                       memcmp(&a->addr, &b->addr, size) == 0,
                   "a server list written back parses differently");
  }
  DNS_FUZZ_CHECK(a == NULL && b == NULL,
                 "a server list written back has another length");
}

static void check_nodes(const char *csv, const struct ares_addr_port_node *n) {
  size_t count = 0;
  for (const struct ares_addr_port_node *x = n; x != NULL; x = x->next) {
    count++;
    DNS_FUZZ_CHECK(x->family == AF_INET || x->family == AF_INET6,
                   "a node of no family");
    DNS_FUZZ_CHECK(x->udp_port == x->tcp_port && x->udp_port >= 0 &&
                       x->udp_port <= 65535,
                   "a node with a bad port");
  }
  DNS_FUZZ_CHECK(count == entries(csv), "not one node per entry");
  char text[MAX_INPUT * 4];
  if (!format(n, text, sizeof text))
    return;
  struct ares_addr_port_node *again = NULL;
  DNS_FUZZ_CHECK(df__dns_parse_servers(text, &again) == 0,
                 "a server list written back is refused");
  same_nodes(n, again);
  df__dns_servers_free(again);
}

static df_reactor *reactor;

static void free_reactor(void) { df_reactor_free(reactor); }

/* df_resolver_new() with \p csv: its answer must be the parser's. */
static void check_resolver(const char *csv, int parsed) {
  if (csv[0] == '\0')
    return; /* "" means the system's servers */
  if (reactor == NULL) {
    DNS_FUZZ_CHECK(df_reactor_new(&reactor, NULL) == 0, "no reactor");
    atexit(free_reactor);
  }
  df_resolver *res = NULL;
  df_resolver_options o = {.servers = csv};
  int rc = df_resolver_new(&res, reactor, &o);
  DNS_FUZZ_CHECK(rc == parsed, "df_resolver_new and the parser disagree");
  DNS_FUZZ_CHECK((rc == 0) == (res != NULL), "a resolver out of an error");
  df_resolver_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > MAX_INPUT)
    return 0;
  char csv[MAX_INPUT + 1];
  memcpy(csv, data, size);
  csv[size] = '\0';
  struct ares_addr_port_node *nodes = (struct ares_addr_port_node *)1;
  int rc = df__dns_parse_servers(csv, &nodes);
  DNS_FUZZ_CHECK(rc == 0 || rc == DF_EINVAL, "an undocumented parser answer");
  if (rc == 0)
    check_nodes(csv, nodes);
  else
    DNS_FUZZ_CHECK(nodes == NULL, "nodes left after a refusal");
  df__dns_servers_free(nodes);
  check_resolver(csv, rc);
  return 0;
}
