/* Fuzz target: host names given to df_resolve(), literal or not, with the
 * resolver pointed at a loopback responder that answers every A query with
 * 127.0.0.1 and every AAAA query with ::1. Input: one byte for the family
 * (AF_UNSPEC, AF_INET, AF_INET6 or a bad one), then the host up to the
 * first NUL. Checks, besides dns_fuzz_lookup()'s: a bad family or a name
 * df_resolve() documents as bad fails with DF_INVALID_ARGUMENT, and nothing
 * else does; a literal gives itself (or ARES_ENODATA for the other family)
 * without a query; a text c-ares' own parser (ares_inet_pton(), more
 * lenient than inet_pton(): "::ffff:127.0.0.01") reads as an address gives
 * that address; any other name gives only the
 * responder's addresses. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <sys/select.h> /* ares.h uses fd_set and struct timeval */
#include <sys/time.h>

#include <ares.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "dns_fuzz.h"

#define MAX_HOST 300

/* The rules df_resolve() documents: not empty, at most 253 characters (254
 * with a final dot), labels of 1 to 63 characters, no '/'. */
static bool bad_name(const char *host) {
  size_t len = strlen(host);
  if (len == 0)
    return true;
  size_t text = host[len - 1] == '.' ? len - 1 : len;
  if (text > 253)
    return true;
  if (strchr(host, '/') != NULL)
    return true;
  size_t label = 0;
  for (size_t i = 0; i < len; i++) {
    if (host[i] != '.') {
      if (++label > 63)
        return true;
    } else if (label == 0) {
      return true;
    } else {
      label = 0;
    }
  }
  return false;
}

static bool is_loopback(const df_address *a) {
  if (a->family == AF_INET) {
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;
    return sin->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  }
  const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;
  return memcmp(&sin6->sin6_addr, &in6addr_loopback, 16) == 0;
}

static void check_literal(df_result r, int family, int literal_family,
                          const unsigned char *raw) {
  if (family != AF_UNSPEC && family != literal_family) {
    df_failure *f = df_result_failure(r);
    DNS_FUZZ_CHECK(f != NULL && df_failure_type(f) == &DF_DNS &&
                       df_failure_code(f) == ARES_ENODATA,
                   "a literal of the other family did not fail ENODATA");
    return;
  }
  DNS_FUZZ_CHECK(!df_result_is_failure(r), "a literal failed");
  const df_addresses *a = r.ptr;
  DNS_FUZZ_CHECK(a->count == 1 && a->items[0].family == literal_family,
                 "a literal did not give itself");
  const void *got =
      literal_family == AF_INET
          ? (const void *)&((const struct sockaddr_in *)&a->items[0].addr)
                ->sin_addr
          : (const void *)&((const struct sockaddr_in6 *)&a->items[0].addr)
                ->sin6_addr;
  DNS_FUZZ_CHECK(memcmp(got, raw, literal_family == AF_INET ? 4 : 16) == 0,
                 "a literal gave another address");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > MAX_HOST + 1)
    return 0;
  static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6, 12345};
  int family = families[data[0] % 4];
  char host[MAX_HOST + 1];
  memcpy(host, data + 1, size - 1);
  host[size - 1] = '\0';
  dns_fuzz_respond(NULL, 0, 0);
  df_result r = dns_fuzz_lookup(host, family);
  df_failure *f = df_result_failure(r);
  bool invalid = f != NULL && df_failure_type(f) == &DF_INVALID_ARGUMENT;
  bool expect_invalid = family == 12345 || bad_name(host);
  DNS_FUZZ_CHECK(invalid == expect_invalid, expect_invalid
                                                ? "a bad input was not refused"
                                                : "a good input was refused");
  unsigned char raw[16];
  if (!expect_invalid && inet_pton(AF_INET, host, raw) == 1) {
    check_literal(r, family, AF_INET, raw);
  } else if (!expect_invalid && inet_pton(AF_INET6, host, raw) == 1) {
    check_literal(r, family, AF_INET6, raw);
  } else if (f == NULL) {
    /* c-ares may read the text as an address itself (its parser accepts
     * more than inet_pton(): "127.0.0.01"); text with a prefix length, which
     * it would read into an uninitialised buffer, is refused above. */
    unsigned char v4[4] = {0}, v6[16] = {0};
    bool ares4 = ares_inet_pton(AF_INET, host, v4) == 1;
    bool ares6 = ares_inet_pton(AF_INET6, host, v6) == 1;
    const df_addresses *a = r.ptr;
    for (size_t i = 0; i < a->count; i++) {
      const df_address *x = &a->items[i];
      bool ok = is_loopback(x);
      if (x->family == AF_INET && ares4)
        ok = ok || memcmp(&((const struct sockaddr_in *)&x->addr)->sin_addr, v4,
                          4) == 0;
      if (x->family == AF_INET6 && ares6)
        ok = ok || memcmp(&((const struct sockaddr_in6 *)&x->addr)->sin6_addr,
                          v6, 16) == 0;
      if (!ok) {
        char text[64];
        df_address_format(x, text, sizeof text);
        fprintf(stderr, "\"%s\" gave %s\n", host, text);
      }
      DNS_FUZZ_CHECK(ok, "a name gave an address neither the responder sent "
                         "nor c-ares read in it");
    }
  }
  df_result_free(r);
  return 0;
}
