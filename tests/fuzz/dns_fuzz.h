/* What the DNS fuzz targets share: one reactor, one resolver pointed at a
 * responder on 127.0.0.1 (a thread of its own with a UDP socket), and a
 * lookup run to its end. Each target defines LLVMFuzzerTestOneInput(); it
 * is built as a libFuzzer program when clang is there, and always with
 * replay_main.c, which runs the committed corpus and seeded random inputs.
 * A broken expectation aborts, so that libFuzzer keeps the input. */
#ifndef DF_DNS_FUZZ_H
#define DF_DNS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "deferred.h"
#include "deferred/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with \p what when \p cond is false. */
#define DNS_FUZZ_CHECK(cond, what)                                             \
  do {                                                                         \
    if (!(cond))                                                               \
      dns_fuzz_fail(__FILE__, __LINE__, (what));                               \
  } while (0)

void dns_fuzz_fail(const char *file, int line, const char *what);

/* The resolver on the responder, made at the first call and freed at exit
 * with the reactor and the responder. */
df_resolver *dns_fuzz_resolver(void);

/* What the responder sends to each query from now on: NULL, a proper
 * answer (A: 127.0.0.1, AAAA: ::1, other types: no record); otherwise
 * \p reply (copied, at most 512 bytes) with the query's ID written over its
 * first two bytes, or, when \p keep_question, the query's header and
 * question followed by \p reply from its 13th byte on, the counts and flags
 * taken from \p reply. After a fuzzed reply the responder also sends a
 * SERVFAIL to the query, so that a lookup whose fuzzed reply c-ares
 * ignores ends at once instead of timing out. */
void dns_fuzz_respond(const uint8_t *reply, size_t len, int keep_question);

/* Looks \p host up with df_resolve() and runs the reactor until the
 * Deferred fired; checks that it fired once and that the result is what
 * df_resolve() documents (a df_addresses of the family asked for, at least
 * one address, ports 0; or a DF_DNS or DF_INVALID_ARGUMENT failure).
 * Returns the result, owned by the caller. */
df_result dns_fuzz_lookup(const char *host, int family);

#endif
