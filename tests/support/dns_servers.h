/* DNS servers that misbehave on purpose, for timeouts and cancellation:
 * - a silent server: a UDP socket bound on 127.0.0.1 that never reads, so
 *   queries to it are neither answered nor refused (no ICMP comes back);
 * - a closed port: queries to it are refused at once (ICMP unreachable);
 * - a slow responder on the test's reactor: it answers every A query with
 *   127.0.0.1 and every AAAA query with ::1, after a delay, and can be told
 *   to never answer AAAA queries.
 * Everything here runs on the reactor thread of the test. */
#ifndef DF_TEST_DNS_SERVERS_H
#define DF_TEST_DNS_SERVERS_H

#include <stddef.h>

#include "deferred/reactor.h"

/* Binds a UDP socket on 127.0.0.1 at a free port and never reads from it.
 * Returns the socket (close it at the end of the test) or -1; \p servers
 * receives "127.0.0.1:PORT". */
int df_test_silent_server(char servers[32]);

/* A UDP port on 127.0.0.1 that nothing listens on (bound, then closed).
 * Writes "127.0.0.1:PORT" into \p servers; returns the port or 0. */
int df_test_closed_port(char servers[32]);

typedef struct df_test_responder df_test_responder;

enum {
  /* Never answer AAAA queries (A queries are still answered). */
  DF_TEST_RESPONDER_DROP_AAAA = 1
};

/* Starts a responder on \p r answering after \p delay seconds (0: in the
 * round the query arrives). NULL when a socket, the watch or memory failed. */
df_test_responder *df_test_responder_new(df_reactor *r, double delay,
                                         unsigned flags);

/* "127.0.0.1:PORT" of the responder (borrowed). */
const char *df_test_responder_servers(const df_test_responder *s);

/* Queries received and replies sent so far. */
size_t df_test_responder_queries(const df_test_responder *s);
size_t df_test_responder_replies(const df_test_responder *s);

/* Stops the responder: pending replies are dropped, the socket closed, the
 * watch and timers released. NULL is a no-op. */
void df_test_responder_free(df_test_responder *s);

#endif
