/* Loopback TCP targets for the connect tests, and an fd census.
 * Only 127.0.0.1 and ::1 are ever used. */
#ifndef DFT_LOOPBACK_H
#define DFT_LOOPBACK_H

#include <stdbool.h>

/* A listening socket on the loopback address of \p family (AF_INET or
 * AF_INET6) at \p port (0: a free one) that never accepts: with a backlog
 * of a few connections, connects to it succeed. Returns the socket or -1;
 * \p port_out (may be NULL) receives the port. */
int dft_listener(int family, int port, int backlog, int *port_out);

/* A listener whose connects hang: listen(fd, 0), never accepting, with one
 * client already sitting in its accept queue (\p filler, which the caller
 * closes with the listener); the kernel drops the SYNs of any further
 * client, which stays in SYN_SENT. Returns the listener or -1. */
int dft_hanging_listener(int family, int port, int *port_out, int *filler);

/* A TCP port on the loopback address of \p family that nothing listens on
 * (bound, then closed): connects to it are refused. Returns it, or 0. */
int dft_refused_port(int family);

/* A port free on both 127.0.0.1 and ::1 for TCP, or 0. */
int dft_free_dual_port(void);

/* True when ::1 can be bound (IPv6 loopback is configured). */
bool dft_have_ipv6(void);

/* The number of open file descriptors of this process (/proc/self/fd). */
int dft_fd_count(void);

#endif
