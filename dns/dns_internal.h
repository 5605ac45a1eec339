/* Declarations shared by the files of deferred_dns. Not installed. */
#ifndef DF_DNS_INTERNAL_H
#define DF_DNS_INTERNAL_H

#include <stdbool.h>
#include <sys/select.h> /* ares.h uses fd_set and struct timeval */
#include <sys/time.h>

#include <ares.h>

#include "deferred/dns.h"

#if defined(__GNUC__)
#define DF__DNS_HIDDEN __attribute__((visibility("hidden")))
#else
#define DF__DNS_HIDDEN
#endif

/* addresses.c */

/* NULL when \p host is acceptable to df_resolve(); otherwise a new
 * DF_INVALID_ARGUMENT failure naming what is wrong. \p family is checked
 * too. */
DF__DNS_HIDDEN df_failure *df__dns_check_input(const char *host, int family);

/* The addresses of an IP literal: a new list, or NULL when \p host is not a
 * literal. \p *status receives ARES_SUCCESS, ARES_ENODATA (a literal of the
 * other family than \p family; NULL is returned) or ARES_ENOMEM. */
DF__DNS_HIDDEN df_addresses *df__dns_literal(const char *host, int family,
                                             int *status, bool *is_literal);

/* Copies the addresses of \p family (AF_UNSPEC: both) out of a c-ares
 * answer, IPv6 first unless \p keep_order. NULL with \p *status set to
 * ARES_ENODATA (no address) or ARES_ENOMEM. */
DF__DNS_HIDDEN df_addresses *df__dns_copy(const struct ares_addrinfo *ai,
                                          int family, bool keep_order,
                                          int *status);

/* The DF_DNS failure for a lookup of \p host that ended with c-ares
 * \p status. */
DF__DNS_HIDDEN df_failure *df__dns_failure(const char *host, int status);

/* The reason df_resolve() documents for \p status. */
DF__DNS_HIDDEN const char *df__dns_reason(int status);

#endif
