/* The queue's mutex, on one futex word: Drepper's "Futexes Are Tricky",
 * mutex 3, the design of Rust's std futex mutex and of WebKit's
 * WTF::Lock. The pool takes it twice per job (the reactor queueing, a
 * worker claiming), around a few pointer moves; glibc's
 * pthread_mutex_lock() and pthread_mutex_unlock() cost about 65
 * instructions a pair there (type dispatch, elision, robust-list checks,
 * two calls), this one a compare-and-swap and an exchange, inline.
 *
 * The word is 0 when free, 1 when held, 2 when held and a thread may be
 * asleep on it. A locker that finds it held spins a while (critical
 * sections are short, and a thread put to sleep costs two system calls and
 * a context switch: glibc's adaptive mutex makes the same bet), then
 * swaps in 2 and sleeps until the swap finds it free. An unlock that swaps
 * out a 2 wakes one sleeper; that one locks with 2 again, so a sleeper
 * still waiting behind it is not forgotten. Acquire on every lock, release
 * on the unlock: ThreadSanitizer sees the ordering in the atomics. */
#include "futex.h"
#include "mutex.h"

/* Spins before sleeping, as many as glibc's adaptive mutex at most. */
#define SPINS 100

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

void df__mutex_lock_contended(df__mutex *m) {
  for (unsigned i = 0; i < SPINS; i++) {
    unsigned seen = atomic_load_explicit(&m->state, memory_order_relaxed);
    if (seen == DF__MUTEX_WAITERS)
      break; /* others sleep already: queue up behind them */
    if (seen == DF__MUTEX_FREE &&
        atomic_compare_exchange_weak_explicit(&m->state, &seen, DF__MUTEX_HELD,
                                              memory_order_acquire,
                                              memory_order_relaxed))
      return;
    cpu_relax();
  }
  while (atomic_exchange_explicit(&m->state, DF__MUTEX_WAITERS,
                                  memory_order_acquire) != DF__MUTEX_FREE)
    (void)df__futex_wait(&m->state, DF__MUTEX_WAITERS, NULL);
}

void df__mutex_wake(df__mutex *m) { df__futex_wake(&m->state); }
