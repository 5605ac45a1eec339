/* DNS servers that misbehave on purpose, for timeouts and cancellation:
 * - a silent server: a UDP socket bound on 127.0.0.1 that never reads, so
 *   queries to it are neither answered nor refused (no ICMP comes back);
 * - a closed port: queries to it are refused at once (ICMP unreachable);
 * - a slow responder on the test's reactor: it answers every A query with
 *   127.0.0.1 and every AAAA query with ::1, after a delay, and can be told
 *   to never answer AAAA queries.
 * Everything here runs on the reactor thread of the test. */
#ifndef DFT_DNS_SERVERS_H
#define DFT_DNS_SERVERS_H

#include <stddef.h>

#include "deferred/reactor.h"

/* Binds a UDP socket on 127.0.0.1 at a free port and never reads from it.
 * Returns the socket (close it at the end of the test) or -1; \p servers
 * receives "127.0.0.1:PORT". */
int dft_silent_server(char servers[32]);

/* A UDP port on 127.0.0.1 that nothing listens on (bound, then closed).
 * Writes "127.0.0.1:PORT" into \p servers; returns the port or 0. */
int dft_closed_port(char servers[32]);

typedef struct dft_responder dft_responder;

enum {
  /* Never answer AAAA queries (A queries are still answered). */
  DFT_RESPONDER_DROP_AAAA = 1
};

/* Starts a responder on \p r answering after \p delay seconds (0: in the
 * round the query arrives). NULL when a socket, the watch or memory failed. */
dft_responder *dft_responder_new(df_reactor *r, double delay, unsigned flags);

/* "127.0.0.1:PORT" of the responder (borrowed). */
const char *dft_responder_servers(const dft_responder *s);

/* Queries received and replies sent so far. */
size_t dft_responder_queries(const dft_responder *s);
size_t dft_responder_replies(const dft_responder *s);

/* Stops the responder: pending replies are dropped, the socket closed, the
 * watch and timers released. NULL is a no-op. */
void dft_responder_free(dft_responder *s);

#endif
