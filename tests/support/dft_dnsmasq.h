/* A real DNS server for the tests and the benchmark: dnsmasq on 127.0.0.1 at
 * a free port, serving a fixed set of test names and NXDOMAIN for anything
 * else, so nothing is ever forwarded off the machine.
 *
 * Names served (every answer has TTL 0):
 *   example.test  A 127.0.0.1 and AAAA ::1      (both families)
 *   dual.test     A 127.0.0.1 and AAAA ::1      (host record)
 *   v4only.test   A 127.0.0.2; AAAA: no data     (the name exists)
 *   v6only.test   AAAA ::1; A: no data
 *   anything else NXDOMAIN
 *
 * The server is stopped (kill, then waitpid) by dft_dnsmasq_stop(), and
 * on every other way out of the process: at exit, on a fatal or terminating
 * signal, and, because the child asks the kernel for a parent-death signal,
 * even when the test process is killed outright. Started as root, the child
 * drops to "nobody" before it runs dnsmasq. Not thread-safe: start and stop
 * from the main thread. The binary is /usr/sbin/dnsmasq unless DF_DNSMASQ
 * names another; DF_DNSMASQ_LOG=1 lets its log (queries included) through
 * to stderr. */
#ifndef DFT_DNSMASQ_H
#define DFT_DNSMASQ_H

#include <stdbool.h>
#include <sys/types.h>

#define DFT_NAME_BOTH "example.test"
#define DFT_NAME_DUAL "dual.test"
#define DFT_NAME_V4ONLY "v4only.test"
#define DFT_NAME_V6ONLY "v6only.test"
#define DFT_NAME_MISSING "nosuch.test"

typedef struct dft_dnsmasq {
  pid_t pid;        /* 0 when not running */
  int port;         /* UDP and TCP port on 127.0.0.1 */
  char servers[32]; /* "127.0.0.1:PORT", for df_resolver_options.servers */
} dft_dnsmasq;

/* Starts dnsmasq and waits until it answers a query (a few seconds at most,
 * retrying on another port when the chosen one was taken). Returns 0, or a
 * negative errno value after printing the reason on stderr. */
int dft_dnsmasq_start(dft_dnsmasq *m);

/* Stops the server started into \p m and waits for it; a stopped or never
 * started \p m (pid 0) is a no-op. */
void dft_dnsmasq_stop(dft_dnsmasq *m);

#endif
