/* The child processes a suite starts (dnsmasq, nats-server, worker
 * processes): recorded in a table that a signal handler can read, so that
 * they are killed when the suite exits, returns from main or dies of a
 * fatal signal, and never outlive it. */
#ifndef DFT_CHILDREN_H
#define DFT_CHILDREN_H

#include <stdbool.h>
#include <sys/types.h>

/* Records \p pid (at most 16 at a time); the first call installs the exit
 * and signal handlers. Call it right after fork() in the parent. */
void dft_children_add(pid_t pid);

/* Forgets \p pid: the caller has stopped and reaped it, or is about to. */
void dft_children_remove(pid_t pid);

/* Whether \p pid is recorded. */
bool dft_children_has(pid_t pid);

#endif
