/* The server list of df_resolver_options: parsed here, strictly, into the
 * nodes ares_set_servers_ports() takes, so that c-ares' own lenient parser
 * (which wraps ports modulo 65536 and accepts unbalanced brackets) never
 * sees user text.
 *
 * Grammar (no spaces anywhere):
 *   list  = entry *("," entry)
 *   entry = IPv4 [":" port] | "[" IPv6 "]" [":" port] | IPv6
 *   port  = 1 to 5 decimal digits, 1 to 65535
 * IPv4 and IPv6 are what inet_pton() accepts; without a port, c-ares uses
 * 53. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <string.h>

#include "deferred/alloc.h"
#include "dns_internal.h"

/* "[" + the longest IPv6 text + "]:" + 5 digits, with room to spare. */
#define MAX_ENTRY 64

static bool parse_port(const char *s, int *port) {
  size_t len = strlen(s);
  if (len == 0 || len > 5) {
    return false;
  }
  long value = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    value = value * 10 + (s[i] - '0');
  }
  if (value < 1 || value > 65535) {
    return false;
  }
  *port = (int)value;
  return true;
}

static bool parse_v6(const char *text, struct ares_addr_port_node *n) {
  n->family = AF_INET6;
  return inet_pton(AF_INET6, text, &n->addr.addr6) == 1;
}

static bool parse_v4(const char *text, struct ares_addr_port_node *n) {
  n->family = AF_INET;
  return inet_pton(AF_INET, text, &n->addr.addr4) == 1;
}

/* Parses one entry, NUL-terminated in a buffer of our own (written to). */
static bool parse_entry(char *e, struct ares_addr_port_node *n) {
  int port = 0;
  bool ok;
  if (e[0] == '[') {
    char *close = strchr(e, ']');
    if (close == NULL) {
      return false;
    }
    *close = '\0';
    if (close[1] != '\0' &&
        (close[1] != ':' || !parse_port(close + 2, &port))) {
      return false;
    }
    ok = parse_v6(e + 1, n);
  } else {
    char *colon = strchr(e, ':');
    if (colon != NULL && strchr(colon + 1, ':') != NULL) {
      ok = parse_v6(e, n); /* a bare IPv6 address: no port */
    } else {
      if (colon != NULL) {
        *colon = '\0';
        if (!parse_port(colon + 1, &port)) {
          return false;
        }
      }
      ok = parse_v4(e, n);
    }
  }
  n->udp_port = port;
  n->tcp_port = port;
  return ok;
}

static size_t count_entries(const char *csv) {
  size_t n = 1;
  for (const char *p = csv; *p != '\0'; p++) {
    n += *p == ',';
  }
  return n;
}

int df__dns_parse_servers(const char *csv, struct ares_addr_port_node **out) {
  *out = NULL;
  size_t count = count_entries(csv);
  struct ares_addr_port_node *nodes = df_calloc(count, sizeof *nodes);
  if (nodes == NULL) {
    return DF_ENOMEM;
  }
  const char *p = csv;
  for (size_t i = 0; i < count; i++) {
    size_t len = strcspn(p, ",");
    char entry[MAX_ENTRY];
    if (len == 0 || len >= sizeof entry) {
      df_free(nodes);
      return DF_EINVAL;
    }
    memcpy(entry, p, len);
    entry[len] = '\0';
    if (!parse_entry(entry, &nodes[i])) {
      df_free(nodes);
      return DF_EINVAL;
    }
    nodes[i].next = i + 1 < count ? &nodes[i + 1] : NULL;
    p += len + (p[len] == ',');
  }
  *out = nodes;
  return 0;
}

void df__dns_servers_free(struct ares_addr_port_node *servers) {
  df_free(servers);
}
