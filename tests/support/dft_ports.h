/* Ports on 127.0.0.1 for the servers a suite starts. */
#ifndef DFT_PORTS_H
#define DFT_PORTS_H

#include <netinet/in.h>

/* Binds a socket of \p type (SOCK_STREAM, SOCK_DGRAM) to 127.0.0.1:\p port
 * (0: a port the kernel picks), closes it, and returns the port it had: free
 * a moment ago, to hand to a server. 0 when the bind failed. */
int dft_loopback_port(int type, int port);

/* The address 127.0.0.1:\p port, for bind(), connect() or sendto(): the
 * one address the servers a suite starts listen on. */
struct sockaddr_in dft_loopback_addr(int port);

#endif
