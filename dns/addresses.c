/* Address lists: checking a name before it reaches c-ares, answering IP
 * literals without a query, copying c-ares answers into df_addresses, and the
 * DF_DNS failures. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns_internal.h"

/* RFC 1035: 255 octets on the wire, which is 253 characters of text without
 * the final dot; 63 octets per label. */
#define MAX_NAME 253
#define MAX_LABEL 63

static df_failure *check_labels(const char *host, size_t len) {
  size_t label = 0;
  for (size_t i = 0; i < len; i++) {
    /* No host name has one, and c-ares 1.18 reads text with a prefix
     * length ("::127.0.0/1") as an address, into a buffer of which it
     * writes only the prefix: the lookup would answer with stack bytes. */
    if (host[i] == '/') {
      return df_failure_new(&DF_INVALID_ARGUMENT, 0,
                            "host has a '/': not a host name");
    }
    if (host[i] != '.') {
      label++;
      if (label > MAX_LABEL) {
        return df_failure_new(&DF_INVALID_ARGUMENT, 0,
                              "host has a label longer than %d characters",
                              MAX_LABEL);
      }
      continue;
    }
    /* A dot ends a label, which must not be empty: this refuses "a..b", a
     * leading dot and "." alone, while the final dot of an absolute name
     * ("example.test.") follows a label like any other. */
    if (label == 0) {
      return df_failure_new(&DF_INVALID_ARGUMENT, 0, "host has an empty label");
    }
    label = 0;
  }
  return NULL;
}

df_failure *df__dns_check_input(const char *host, int family) {
  if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0,
                          "family is %d, not AF_INET, AF_INET6 or AF_UNSPEC",
                          family);
  }
  if (host == NULL) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0, "host is NULL");
  }
  size_t len = strnlen(host, MAX_NAME + 2);
  if (len == 0) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0, "host is empty");
  }
  size_t text = host[len - 1] == '.' ? len - 1 : len;
  if (len > MAX_NAME + 1 || text > MAX_NAME) {
    return df_failure_new(&DF_INVALID_ARGUMENT, 0,
                          "host is longer than %d characters", MAX_NAME);
  }
  return check_labels(host, len);
}

static df_addresses *one_address(int family, const void *raw) {
  df_addresses *list = df_calloc(1, sizeof *list + sizeof list->items[0]);
  if (list == NULL) {
    return NULL;
  }
  list->count = 1;
  df_address *a = &list->items[0];
  a->family = family;
  if (family == AF_INET) {
    struct sockaddr_in *sin = (struct sockaddr_in *)&a->addr;
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, raw, sizeof sin->sin_addr);
    a->len = sizeof *sin;
  } else {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->addr;
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, raw, sizeof sin6->sin6_addr);
    a->len = sizeof *sin6;
  }
  return list;
}

df_addresses *df__dns_literal(const char *host, int family, int *status,
                              bool *is_literal) {
  unsigned char raw[sizeof(struct in6_addr)];
  int found = AF_UNSPEC;
  if (inet_pton(AF_INET, host, raw) == 1) {
    found = AF_INET;
  } else if (inet_pton(AF_INET6, host, raw) == 1) {
    found = AF_INET6;
  }
  *is_literal = found != AF_UNSPEC;
  if (found == AF_UNSPEC) {
    return NULL;
  }
  if (family != AF_UNSPEC && family != found) {
    *status = ARES_ENODATA;
    return NULL;
  }
  df_addresses *list = one_address(found, raw);
  *status = list != NULL ? ARES_SUCCESS : ARES_ENOMEM;
  return list;
}

static bool wanted(const struct ares_addrinfo_node *n, int family) {
  if (n->ai_addr == NULL) {
    return false;
  }
  if (n->ai_family == AF_INET) {
    return family != AF_INET6 && n->ai_addrlen >= sizeof(struct sockaddr_in);
  }
  if (n->ai_family == AF_INET6) {
    return family != AF_INET && n->ai_addrlen >= sizeof(struct sockaddr_in6);
  }
  return false;
}

static void copy_node(df_address *a, const struct ares_addrinfo_node *n) {
  memset(a, 0, sizeof *a);
  a->family = n->ai_family;
  a->len = n->ai_family == AF_INET ? sizeof(struct sockaddr_in)
                                   : sizeof(struct sockaddr_in6);
  memcpy(&a->addr, n->ai_addr, a->len);
  /* df_resolve() promises port 0, whatever service c-ares was given. */
  if (a->family == AF_INET) {
    ((struct sockaddr_in *)&a->addr)->sin_port = 0;
  } else {
    ((struct sockaddr_in6 *)&a->addr)->sin6_port = 0;
  }
}

df_addresses *df__dns_copy(const struct ares_addrinfo *ai, int family,
                           bool keep_order, int *status) {
  size_t count = 0;
  for (const struct ares_addrinfo_node *n = ai != NULL ? ai->nodes : NULL;
       n != NULL; n = n->ai_next) {
    count += wanted(n, family);
  }
  if (count == 0) {
    *status = ARES_ENODATA;
    return NULL;
  }
  df_addresses *list = df_malloc(sizeof *list + count * sizeof list->items[0]);
  if (list == NULL) {
    *status = ARES_ENOMEM;
    return NULL;
  }
  list->count = count;
  /* Two passes make the order deterministic without c-ares's RFC 6724
   * sort: IPv6 first, each family in the order of the answer. */
  size_t i = 0;
  for (int pass = 0; pass < (keep_order ? 1 : 2); pass++) {
    for (const struct ares_addrinfo_node *n = ai->nodes; n != NULL;
         n = n->ai_next) {
      if (!wanted(n, family)) {
        continue;
      }
      if (!keep_order && (n->ai_family == AF_INET6) != (pass == 0)) {
        continue;
      }
      copy_node(&list->items[i++], n);
    }
  }
  *status = ARES_SUCCESS;
  return list;
}

void df_addresses_free(void *addresses) { df_free(addresses); }

size_t df_address_format(const df_address *a, char *buf, size_t len) {
  char ip[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  int n;
  if (a == NULL) {
    n = snprintf(buf, len, "(null)");
  } else if (a->family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof ip);
    port = ntohs(sin->sin_port);
    n = port != 0 ? snprintf(buf, len, "%s:%u", ip, port)
                  : snprintf(buf, len, "%s", ip);
  } else if (a->family == AF_INET6) {
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof ip);
    port = ntohs(sin6->sin6_port);
    n = port != 0 ? snprintf(buf, len, "[%s]:%u", ip, port)
                  : snprintf(buf, len, "%s", ip);
  } else {
    n = snprintf(buf, len, "(family %d)", a->family);
  }
  return n < 0 ? 0 : (size_t)n;
}

const char *df__dns_reason(int status) {
  switch (status) {
  case ARES_ENOTFOUND:
    return "name not found";
  case ARES_ENODATA:
    return "no address of the requested family";
  case ARES_ETIMEOUT:
    return "timed out";
  case ARES_ECONNREFUSED:
  case ARES_ESERVFAIL:
  case ARES_EREFUSED:
  case ARES_EFORMERR:
  case ARES_EBADRESP:
    return "server failure";
  case ARES_EDESTRUCTION:
  case ARES_ECANCELLED:
    return "resolver closed";
  default:
    return ares_strerror(status);
  }
}

df_failure *df__dns_failure(const char *host, int status) {
  if (status == ARES_ENOMEM) {
    return df_failure_new(&DF_NO_MEMORY, 0, "no memory for a lookup of '%s'",
                          host);
  }
  return df_failure_new(&DF_DNS, status, "DNS lookup of '%s' failed: %s (%s)",
                        host, df__dns_reason(status), ares_strerror(status));
}
