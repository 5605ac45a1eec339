/*! \file deferred/dns.h
 *  \brief The DNS stage (a c-ares resolver driven by the reactor) and the TCP
 *  connect endpoint built on it: the connection example of the
 *  specification (S20, C2).
 *
 *  A df_resolver owns one c-ares channel and drives it from a df_reactor: the
 *  channel's sockets are watched with df_watch_fd(), its retransmissions and
 *  timeouts run from one reactor timer re-armed from ares_timeout() after
 *  every c-ares call. There is no thread and no blocking call (except the
 *  hosts file, read with stdio on each lookup when
 *  df_resolver_options.hosts_file is set). Deferreds are fired from the
 *  reactor, never from inside c-ares: a callback may start new lookups, cancel
 *  anything, or free the resolver.
 *
 *  df_connect_tcp() is the connection example: resolve the name, then open
 *  non-blocking TCP connections to the addresses found, staggered in the
 *  spirit of RFC 8305 (Happy Eyeballs); the first connection to succeed wins
 *  and the others are closed.
 *
 *  Cancellation (S14-S20), what the caller of df_cancel() sees:
 *
 *  | operation and stage                  | interrupted? | the Deferred      | what happens underneath                       |
 *  |--------------------------------------|--------------|-------------------|-----------------------------------------------|
 *  | df_resolve(), literal or bad input   | -            | already fired     | nothing: no lookup was made                   |
 *  | df_resolve(), waiting for a slot     | yes          | Cancelled at once | the lookup is dropped from the queue          |
 *  | df_resolve(), query sent             | no (S20)     | Cancelled at once | the query runs on; its late answer or timeout |
 *  |                                      |              |                   | is discarded and freed when it arrives        |
 *  | df_resolve(), answer being delivered | -            | already fired     | nothing (S18)                                 |
 *  | df_connect_tcp(), DNS stage          | no (S20)     | Cancelled at once | as df_resolve(); no socket was opened         |
 *  | df_connect_tcp(), connect stage      | yes          | Cancelled at once | every socket of every attempt is closed, the  |
 *  |                                      |              |                   | stagger timer stopped, no further attempt     |
 *  | df_connect_tcp(), connected          | -            | already fired     | nothing (S18); the caller owns the socket     |
 *  | df_connect_tcp() with opts.timeout   | as above     | DF_TIMEOUT        | the timeout cancels (S29); see the rows above |
 *  | df_resolver_free(), pending lookups  | -            | DF_DNS "resolver  | every unfired lookup fails once, in the order |
 *  |                                      |              | closed"           | it was made; c-ares is torn down              |
 *
 *  c-ares has no way to stop one query; hence the DNS stage cannot be
 *  interrupted. df_resolve() therefore has no canceller: df_cancel() makes it
 *  fail with DF_CANCELLED at once (S16) and the resolver notices, when c-ares
 *  answers, that nobody waits any more (S17).
 *
 *  Threading: everything here runs on the reactor's thread (the thread that
 *  runs df_reactor_run(), or that created the reactor before it runs), and
 *  every Deferred fires there.
 *
 *  Memory: every allocation of this part of the library goes through
 *  df_malloc() and friends (deferred/alloc.h), and so do c-ares' own: the
 *  first df_resolver_new() of the process hands df_malloc(), df_realloc()
 *  and df_free() to ares_library_init_mem(), whose reference is never
 *  released. c-ares calls those functions, not the allocator installed at
 *  that moment, so df_replace_allocator() may be called before or after
 *  (while no resolver exists, as its rule says). The setting is
 *  process-wide: a program that also uses c-ares directly shares the hook,
 *  and must not call ares_library_init_mem() itself nor release more
 *  c-ares references than it took (c-ares would fall back to malloc() for
 *  memory it got from df_malloc()). Outside the hook remain what no
 *  allocator of ours can reach: the C library's own allocations inside
 *  calls c-ares makes (stdio reading /etc/resolv.conf and the hosts file,
 *  the socket calls) and the kernel's sockets.
 *
 *  When memory runs out, the promise is DF_NO_MEMORY without waiting for a
 *  timeout (in the same call, or in the next reactor round for lookups in
 *  flight on a channel that lost a socket): a literal's
 *  address list, the request, the answer's copy, c-ares' own allocations
 *  (ARES_ENOMEM), and a c-ares socket the reactor cannot watch (no memory
 *  for the watch or the resolver's socket table; the channel is then closed,
 *  every lookup in flight on it fails, and the next lookup opens a new
 *  one) all fail the lookup with DF_NO_MEMORY rather than with a DF_DNS
 *  timeout later. Two limits of c-ares 1.18 remain: an allocation failing
 *  while c-ares matches an answer to its query drops the answer, and the
 *  lookup waits for the retransmission (or times out); and one failing
 *  while it parses one family's answer of an AF_UNSPEC lookup loses that
 *  family (the lookup gives the other family's addresses, or ENODATA).
 */
#ifndef DEFERRED_DNS_H
#define DEFERRED_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "deferred.h"
#include "reactor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ================================================================ resolver */

/*! An opaque resolver: one c-ares channel driven by one reactor. */
typedef struct df_resolver df_resolver;

/*! Options of df_resolver_new(). A zeroed struct gives the defaults. */
typedef struct df_resolver_options {
  /*! Name servers, comma-separated without spaces, each "IPv4[:port]",
   *  "[IPv6][:port]" or a bare "IPv6" (e.g. "127.0.0.1:5353" or
   *  "127.0.0.1:5353,[::1]:53"); the port is 1 to 65535, 53 when absent.
   *  Host names, URIs and empty entries are refused. NULL or "": the
   *  servers of /etc/resolv.conf. */
  const char *servers;
  /*! Time for the first try, in milliseconds; c-ares doubles it on each
   *  pass over the server list, so one server gives up after
   *  timeout_ms * (2^tries - 1). 0: the c-ares default (5000 in c-ares
   *  1.18, or what resolv.conf says). */
  int timeout_ms;
  /*! Tries per server. 0: the c-ares default (4 in c-ares 1.18). */
  int tries;
  /*! true: look names up in the hosts file first, then in DNS. The hosts
   *  file is read with blocking stdio on each lookup, and a hit completes
   *  without any query. false (the default): DNS only. */
  bool hosts_file;
  /*! true: c-ares orders the addresses by RFC 6724, which costs one UDP
   *  socket and connect() per address found. false (the default): IPv6
   *  addresses first, then IPv4, each family in the server's order;
   *  df_connect_tcp() interleaves the families itself. */
  bool rfc6724_sort;
  /*! Most lookups sent at once; the others wait, first in first out.
   *  0: 64. Past about 200 outstanding UDP queries a loopback server starts
   *  dropping datagrams, and each drop costs a full retransmission timeout. */
  int max_in_flight;
} df_resolver_options;

/*! \brief Makes a resolver that drives one c-ares channel from \p reactor.
 *
 *  Reads /etc/resolv.conf (for the defaults not set in \p opts) and never
 *  searches domain suffixes or host aliases: a name is looked up as given.
 *  \param out receives the resolver (the caller owns it and frees it with
 *         df_resolver_free()); set to NULL on error.
 *  \param reactor borrowed; must outlive the resolver: free the resolver
 *         before the reactor (the reactor reports DF_EBUSY otherwise). Use
 *         a reactor on the system clock: c-ares measures its timeouts on
 *         the real monotonic clock, so with a manual clock its
 *         retransmissions and timeouts wait for both clocks.
 *  \param opts borrowed, copied; NULL gives the defaults.
 *  \return 0; DF_EINVAL when \p out or \p reactor is NULL, a number in
 *          \p opts is negative, or \p opts->servers is not a valid list
 *          (an empty entry, a port outside 1-65535, a bracket not closed,
 *          an address inet_pton() refuses, a space); nothing is left
 *          allocated then;
 *          DF_ENOMEM; DF_EAGAIN when c-ares could not be initialised.
 *  Reactor thread only. */
DF_EXTERN int df_resolver_new(df_resolver **out, df_reactor *reactor,
                              const df_resolver_options *opts);

/*! \brief Frees \p res. Every lookup that has not fired yet fails, in the
 *  order the lookups were made, with a DF_DNS failure "resolver closed"
 *  (code ARES_EDESTRUCTION) before this call returns: each Deferred fires
 *  exactly once. Answers that c-ares delivered while tearing down (a partial
 *  answer of a two-family lookup included) are discarded. Queries still on
 *  the wire are abandoned; their sockets are closed.
 *
 *  Callbacks run by this call may call df_resolve() on \p res (they get a
 *  Deferred already failed with "resolver closed"); freeing it again from
 *  one of them is refused with DF_EBUSY.
 *
 *  Restrictions: reactor thread only; call it before freeing the reactor.
 *  It may be called from any callback, including one of \p res's own
 *  lookups.
 *  \param res the resolver; NULL is a no-op (0).
 *  \return 0; DF_EINVAL off the reactor thread (nothing freed); DF_EBUSY
 *          from a callback that this resolver's own free is running. */
DF_EXTERN int df_resolver_free(df_resolver *res);

/*! One address found by a lookup. */
typedef struct df_address {
  int family;                   /*!< AF_INET or AF_INET6 */
  socklen_t len;                /*!< bytes of \p addr in use */
  struct sockaddr_storage addr; /*!< a sockaddr_in or sockaddr_in6 */
} df_address;

/*! The value of a successful df_resolve(): at least one address. The port
 *  of every address is 0. Free it with df_addresses_free(), the free
 *  function it travels with in the chain. */
typedef struct df_addresses {
  size_t count;       /*!< number of entries in \p items, at least 1 */
  df_address items[]; /*!< IPv6 first, then IPv4 (see rfc6724_sort) */
} df_addresses;

/*! \brief Frees a df_addresses (declared with a void pointer so that it is a
 *  df_free_fn). NULL is a no-op. Any thread.
 *  \param addresses the df_addresses, or NULL. */
DF_EXTERN void df_addresses_free(void *addresses);

/*! \brief Writes \p a as text: "127.0.0.1" or "::1" when its port is 0,
 *  "127.0.0.1:80" or "[::1]:80" otherwise.
 *  \param a borrowed; NULL writes "(null)".
 *  \param buf receives the text, always NUL-terminated when \p len > 0
 *         (truncated when too short; 64 bytes are always enough).
 *  \return the length of the full text, like snprintf. Any thread.
 *  \param len bytes of \p buf. */
DF_EXTERN size_t df_address_format(const df_address *a, char *buf, size_t len);

/*! \brief Looks \p host up: its IPv4 addresses (\p family AF_INET), IPv6
 *  addresses (AF_INET6) or both (AF_UNSPEC).
 *
 *  The Deferred fires, on the reactor thread and never before the reactor
 *  runs a round (except for the cases below that fire at once), with a
 *  df_addresses value (the chain owns it; free function df_addresses_free)
 *  or with a DF_DNS failure whose code is the c-ares status and whose
 *  message names \p host and the reason:
 *  - ARES_ENOTFOUND: "name not found" (NXDOMAIN);
 *  - ARES_ENODATA: "no address of the requested family";
 *  - ARES_ETIMEOUT: "timed out" (every try of every server);
 *  - ARES_ECONNREFUSED, ARES_ESERVFAIL, ARES_EREFUSED, ARES_EFORMERR,
 *    ARES_EBADRESP: "server failure";
 *  - ARES_EDESTRUCTION: "resolver closed" (df_resolver_free());
 *  - any other status: its c-ares description.
 *
 *  It fires at once (the Deferred is returned already fired) when:
 *  - \p host is an IPv4 or IPv6 literal: no query is made; a literal of the
 *    other family than \p family fails with ARES_ENODATA;
 *  - the input is bad: DF_INVALID_ARGUMENT, the message naming the
 *    argument: \p res or \p host NULL, \p host empty, longer than 253
 *    characters (254 with a final dot), with an empty label ("a..b", a
 *    leading dot, "." alone), with a label longer than 63 or
 *    with a '/' (no host name has one; c-ares would read "::1/64" as an
 *    address), \p family not one of the three above;
 *  - \p res is being freed: DF_DNS "resolver closed";
 *  - memory ran out for the request or the literal's list: DF_NO_MEMORY.
 *
 *  A lookup sent fails with DF_NO_MEMORY (instead of a DF_DNS code) when
 *  memory ran out on its way: in c-ares, for its socket's watch, or for
 *  the copy of the answer.
 *
 *  At most df_resolver_options.max_in_flight lookups are sent at once; the
 *  others wait in a first-in first-out queue.
 *
 *  Cancellation (S20): the Deferred has no canceller. df_cancel() fails it
 *  with DF_CANCELLED at once; a lookup already sent runs on and its late
 *  answer is discarded and freed, one still queued is dropped.
 *
 *  \param res borrowed. \param host borrowed, copied.
 *  \return the caller's reference; NULL only when memory ran out.
 *  Reactor thread only.
 *  \param family AF_INET, AF_INET6 or AF_UNSPEC. */
DF_EXTERN df_deferred *df_resolve(df_resolver *res, const char *host,
                                  int family);

/*! Counters of a resolver, read by df_resolver_stats(): for tests and
 *  monitoring. Like `struct stat` and stat(), the struct tag and the
 *  function share the name: write `struct df_resolver_stats`. */
struct df_resolver_stats {
  size_t in_flight; /*!< lookups handed to c-ares and not answered yet
                         (abandoned ones included) */
  size_t queued;    /*!< lookups waiting for a slot */
  size_t pending;   /*!< lookups made whose request still exists: sent,
                         queued, or answered and not yet delivered */
  size_t sockets;   /*!< c-ares sockets watched on the reactor now */
  unsigned long long started;   /*!< lookups handed to c-ares */
  unsigned long long answered;  /*!< answers (or errors) c-ares returned */
  unsigned long long discarded; /*!< answers that arrived after a cancel
                                     and were freed unseen */
};

/*! \brief Fills \p out with \p res's counters.
 *  \return 0, or DF_EINVAL when either is NULL. Reactor thread only.
 *  \param res the resolver (borrowed).
 *  \param out receives the counters. */
DF_EXTERN int df_resolver_stats(const df_resolver *res,
                                struct df_resolver_stats *out);

/* ================================================================ connect */

/*! Options of df_connect_tcp(). A zeroed struct gives the defaults. */
typedef struct df_connect_options {
  /*! AF_UNSPEC (0, the default: both families), AF_INET or AF_INET6. */
  int family;
  /*! Seconds for the whole operation, DNS stage included, after which the
   *  Deferred is cancelled and fails with DF_TIMEOUT (df_add_timeout()).
   *  0: no timeout. */
  double timeout;
  /*! Seconds to wait for an attempt before starting the next one in
   *  parallel (RFC 8305 "connection attempt delay"). A failed attempt starts
   *  the next one at once. 0: 0.25 s. */
  double attempt_delay;
} df_connect_options;

/*! The value of a successful df_connect_tcp(). Free it with
 *  df_connection_free() (the free function it travels with), which closes
 *  the socket unless df_connection_detach() took it. */
typedef struct df_connection {
  int fd;          /*!< the connected socket: non-blocking, close-on-exec */
  df_address peer; /*!< the address it is connected to, port included */
} df_connection;

/*! \brief Closes the socket of a df_connection (unless detached) and frees
 *  it. Declared with a void pointer so that it is a df_free_fn. NULL is a
 *  no-op. Any thread.
 *  \param connection the df_connection, or NULL. */
DF_EXTERN void df_connection_free(void *connection);

/*! \brief Takes the socket out of \p c: returns it and leaves -1 in its
 *  place, so that df_connection_free() no longer closes it.
 *  \param c borrowed; the caller owns it (it was the chain's value).
 *  \return the socket, now the caller's; DF_EINVAL when \p c is NULL or
 *          was detached already. Any thread. */
DF_EXTERN int df_connection_detach(df_connection *c);

/*! \brief Connects to \p host port \p port over TCP: the article's
 *  connection example.
 *
 *  Resolves \p host with df_resolve() (not cancellable, S20), then starts a
 *  non-blocking connect() to the first address. Each
 *  \p opts->attempt_delay an attempt is still pending, or as soon as one
 *  fails, the next address is tried in parallel, alternating families
 *  (starting with the family of the first address). The first attempt that
 *  connects (confirmed with SO_ERROR) wins and the others are closed.
 *
 *  Fires with a df_connection (the chain owns it and its socket; free
 *  function df_connection_free), or fails with:
 *  - DF_DNS: the lookup failed (see df_resolve());
 *  - DF_CONNECT: every address failed; the code is the errno of the last
 *    attempt and the message names \p host, the address tried and the
 *    reason;
 *  - DF_SYSTEM: socket() failed for every address (code errno);
 *  - DF_TIMEOUT: \p opts->timeout passed (code: the timeout in ms);
 *  - DF_NO_MEMORY: memory ran out at some stage (possibly already failed),
 *    the lookup's (see df_resolve()), an attempt's watch or the stagger
 *    timer included: at once, the sockets of every attempt closed;
 *  - DF_INVALID_ARGUMENT, already failed: \p reactor, \p res or \p host
 *    NULL, \p port 0 or above 65535, a negative or non-finite timeout or
 *    delay, a bad family, or a bad \p host (see df_resolve()).
 *
 *  Cancellation: during the DNS stage, DF_CANCELLED at once and the lookup
 *  runs on (its answer is discarded); during the connect stage, every socket
 *  is closed and the Deferred fails with DF_CANCELLED. See the table at the
 *  top of this file.
 *
 *  \param reactor borrowed; \param res borrowed, used for the lookup only:
 *         it may be freed once the DNS stage is over; \param host borrowed,
 *         copied; \param opts borrowed, copied; NULL gives the defaults.
 *  \return the caller's reference; NULL only when memory ran out.
 *  Reactor thread only.
 *  \param port the TCP port, 1 to 65535. */
DF_EXTERN df_deferred *df_connect_tcp(df_reactor *reactor, df_resolver *res,
                                      const char *host, unsigned port,
                                      const df_connect_options *opts);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_DNS_H */
