/* A real NATS server with JetStream for the remote suites: `nats-server -js`
 * on 127.0.0.1 at a free port, with a file store in a temporary directory,
 * and the suites' worker processes.
 *
 * Every child started here (servers and workers) is stopped by PID: by the
 * stop functions, at exit, on a fatal or terminating signal, and, because
 * the child asks the kernel for a parent-death signal, even when the test
 * process is killed outright. The store directory is removed by
 * dft_nats_stop(). Not thread-safe: start and stop from the main
 * thread. The binary is /usr/sbin/nats-server unless DF_NATS_SERVER names
 * another; DF_NATS_LOG=1 lets its log through to stderr. */
#ifndef DFT_NATS_SERVER_H
#define DFT_NATS_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct dft_nats {
  pid_t pid;        /* 0 when not running */
  int port;         /* client port on 127.0.0.1 */
  int monitor_port; /* HTTP monitoring port (healthz) */
  char url[64];     /* "nats://127.0.0.1:PORT" */
  char store[256];  /* the JetStream store directory */
} dft_nats;

/* Starts a server with a fresh store and waits until /healthz answers ok
 * (a few seconds at most, retrying on other ports when one was taken).
 * Returns 0, or a negative errno value after printing the reason. */
int dft_nats_start(dft_nats *n);

/* Stops the server (SIGTERM, then waits) and keeps its store and ports, so
 * dft_nats_restart() brings the same server back. */
void dft_nats_kill(dft_nats *n);

/* Starts the server stopped by dft_nats_kill() again, on the same
 * ports with the same store; waits until it is healthy. 0 or -errno. */
int dft_nats_restart(dft_nats *n);

/* Stops the server if running and removes its store. No-op on a zeroed
 * \p n. */
void dft_nats_stop(dft_nats *n);

/* Starts \p argv[0] (a path) with \p argv as a child process with the
 * same cleanup guarantees; stdout and stderr are inherited. Returns the
 * PID, or a negative errno value. */
pid_t dft_child_start(char *const argv[]);

/* Sends \p sig to a child started above and waits for it; returns its
 * wait status (-1 when \p pid is not running). */
int dft_child_stop(pid_t pid, int sig);

#endif
