/* The two futex calls the pool sleeps and wakes with (futex.c): the
 * workers' own words (jobqueue.c) and the queue's mutex (mutex.c). Not
 * installed. Neither changes errno. */
#ifndef DF_POOL_FUTEX_H
#define DF_POOL_FUTEX_H

#include <stdatomic.h>
#include <time.h>

/* Sleeps while *word == expected, until woken or until \p deadline
 * (absolute, CLOCK_MONOTONIC; NULL: no deadline). May return early for no
 * reason: the caller looks at the word again. 0, or ETIMEDOUT when the
 * deadline passed. */
int df__futex_wait(atomic_uint *word, unsigned expected,
                   const struct timespec *deadline);

/* Wakes one thread sleeping on \p word. */
void df__futex_wake(atomic_uint *word);

#endif /* DF_POOL_FUTEX_H */
