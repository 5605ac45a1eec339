/* The queue's mutex: one futex word, locked and unlocked inline. Not
 * installed. See mutex.c for why the pool has its own. */
#ifndef DF_POOL_MUTEX_H
#define DF_POOL_MUTEX_H

#include <stdatomic.h>

/* 0 unlocked, 1 locked, 2 locked and a thread may sleep on it. */
typedef struct df__mutex {
  atomic_uint state;
} df__mutex;

enum { DF__MUTEX_FREE = 0, DF__MUTEX_HELD = 1, DF__MUTEX_WAITERS = 2 };

static inline void df__mutex_init(df__mutex *m) {
  atomic_init(&m->state, DF__MUTEX_FREE);
}

/* The slow paths (mutex.c): a lock found held, an unlock with sleepers. */
void df__mutex_lock_contended(df__mutex *m);
void df__mutex_wake(df__mutex *m);

static inline void df__mutex_lock(df__mutex *m) {
  unsigned free = DF__MUTEX_FREE;
  if (__builtin_expect(!atomic_compare_exchange_strong_explicit(
                           &m->state, &free, DF__MUTEX_HELD,
                           memory_order_acquire, memory_order_relaxed),
                       0))
    df__mutex_lock_contended(m);
}

static inline void df__mutex_unlock(df__mutex *m) {
  if (__builtin_expect(atomic_exchange_explicit(&m->state, DF__MUTEX_FREE,
                                                memory_order_release) ==
                           DF__MUTEX_WAITERS,
                       0))
    df__mutex_wake(m);
}

#endif /* DF_POOL_MUTEX_H */
