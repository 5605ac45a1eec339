/* Declarations shared by the files of deferred_dns. Not installed. */
#ifndef DF_DNS_INTERNAL_H
#define DF_DNS_INTERNAL_H

#include <stdbool.h>
#include <sys/select.h> /* ares.h uses fd_set and struct timeval */
#include <sys/time.h>

#include <ares.h>

#include "deferred/alloc.h"
#include "deferred/dns.h"

#if defined(__GNUC__)
#define DF__DNS_HIDDEN __attribute__((visibility("hidden")))
#else
#define DF__DNS_HIDDEN
#endif

/* servers.c */

/* Parses \p csv, a server list as df_resolver_options.servers documents it,
 * into a linked list for ares_set_servers_ports(), allocated as one block
 * with df_calloc() (free it with df__dns_servers_free()). Returns 0,
 * DF_EINVAL (a bad entry: empty, a port outside 1-65535, unbalanced
 * brackets, an address inet_pton() refuses; *out stays NULL and nothing is
 * left allocated) or DF_ENOMEM. */
DF__DNS_HIDDEN int df__dns_parse_servers(const char *csv,
                                         struct ares_addr_port_node **out);

DF__DNS_HIDDEN void df__dns_servers_free(struct ares_addr_port_node *servers);

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

/* The failure for a lookup of \p host that ended with c-ares \p status:
 * DF_NO_MEMORY for ARES_ENOMEM, DF_DNS (code \p status) otherwise. */
DF__DNS_HIDDEN df_failure *df__dns_failure(const char *host, int status);

/* The reason df_resolve() documents for \p status. */
DF__DNS_HIDDEN const char *df__dns_reason(int status);

#endif
