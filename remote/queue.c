/* Hand-offs between threads: a FIFO with one consumer, a library thread that
 * runs blocking calls in order, and a count of NATS-side callbacks still to
 * finish. Producers enqueue under the lock, then wake the consumer; the
 * consumer takes the whole list under the lock and runs it unlocked
 * (snapshot, then dispatch). */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <time.h>

#include "remote_internal.h"

/* ------------------------------------------------------------ df__rq */

int df__rq_init(df__rq *q, df_async *async) {
  q->head = NULL;
  q->tail = NULL;
  q->async = async;
  q->closed = false;
  int rc = pthread_mutex_init(&q->lock, NULL);
  if (rc != 0) {
    return -rc;
  }
  rc = pthread_cond_init(&q->cond, NULL);
  if (rc != 0) {
    pthread_mutex_destroy(&q->lock);
    return -rc;
  }
  return 0;
}

int df__rq_init_reactor(df__rq *q, df_async **async, df_reactor *r,
                        df_call_fn fn, void *arg) {
  df_async_new(async, r, fn, arg);
  int err = *async == NULL ? DF_ENOMEM : df__rq_init(q, *async);
  if (err != 0 && *async != NULL) {
    df_async_free(*async);
    *async = NULL;
  }
  return err;
}

bool df__rq_push(df__rq *q, df__ritem *it) {
  it->next = NULL;
  pthread_mutex_lock(&q->lock);
  if (q->closed) {
    pthread_mutex_unlock(&q->lock);
    return false;
  }
  if (q->tail != NULL) {
    q->tail->next = it;
  } else {
    q->head = it;
  }
  q->tail = it;
  if (q->async == NULL) {
    pthread_cond_signal(&q->cond);
  }
  /* The send stays under the lock: whoever closes the queue (the reactor,
   * before freeing the handle) then knows no send is still in flight. */
  if (q->async != NULL) {
    df_async_send(q->async);
  }
  pthread_mutex_unlock(&q->lock);
  return true;
}

df__ritem *df__rq_take(df__rq *q) {
  pthread_mutex_lock(&q->lock);
  df__ritem *list = q->head;
  q->head = NULL;
  q->tail = NULL;
  pthread_mutex_unlock(&q->lock);
  return list;
}

df__ritem *df__rq_wait(df__rq *q) {
  pthread_mutex_lock(&q->lock);
  while (q->head == NULL && !q->closed) {
    pthread_cond_wait(&q->cond, &q->lock);
  }
  df__ritem *list = q->head;
  q->head = NULL;
  q->tail = NULL;
  pthread_mutex_unlock(&q->lock);
  return list;
}

void df__rq_close(df__rq *q) {
  pthread_mutex_lock(&q->lock);
  q->closed = true;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->lock);
}

void df__ritems_run(df__ritem *list, void *owner) {
  while (list != NULL) {
    df__ritem *next = list->next;
    list->run(owner, list);
    list = next;
  }
}

void df__rq_destroy(df__rq *q, void *owner) {
  df__ritem *list = df__rq_take(q);
  while (list != NULL) {
    df__ritem *next = list->next;
    list->drop(owner, list);
    list = next;
  }
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->lock);
}

/* ------------------------------------------------------------ df__rthread */

static void *rthread_main(void *arg) {
  df__rthread *t = arg;
  for (;;) {
    df__ritem *list = df__rq_wait(&t->q);
    if (list == NULL) {
      return NULL; /* closed and empty */
    }
    df__ritems_run(list, t->owner);
  }
}

int df__rthread_start(df__rthread *t, void *owner) {
  t->owner = owner;
  t->started = false;
  atomic_init(&t->stopping, false);
  int rc = df__rq_init(&t->q, NULL);
  if (rc != 0) {
    return rc;
  }
  rc = pthread_create(&t->thread, NULL, rthread_main, t);
  if (rc != 0) {
    df__rq_destroy(&t->q, owner);
    return -rc;
  }
  t->started = true;
  return 0;
}

bool df__rthread_post(df__rthread *t, df__ritem *it) {
  return df__rq_push(&t->q, it);
}

bool df__rthread_stopping(const df__rthread *t) {
  return atomic_load_explicit(&t->stopping, memory_order_acquire);
}

void df__rthread_stop(df__rthread *t) {
  if (!t->started) {
    return;
  }
  atomic_store_explicit(&t->stopping, true, memory_order_release);
  df__rq_close(&t->q);
  pthread_join(t->thread, NULL);
  t->started = false;
  df__rq_destroy(&t->q, t->owner);
}

bool df__rthread_nap(df__rthread *t, int ms) {
  for (int slept = 0; slept < ms; slept += 10) {
    if (df__rthread_stopping(t)) {
      return false;
    }
    struct timespec ts = {0, 10 * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  return !df__rthread_stopping(t);
}

/* ------------------------------------------------------------ df__rdone */

void df__rdone_init(df__rdone *d) {
  pthread_mutex_init(&d->lock, NULL);
  pthread_cond_init(&d->cond, NULL);
  d->outstanding = 0;
}

void df__rdone_add(df__rdone *d) {
  pthread_mutex_lock(&d->lock);
  d->outstanding++;
  pthread_mutex_unlock(&d->lock);
}

void df__rdone_one(void *arg) {
  df__rdone *d = arg;
  pthread_mutex_lock(&d->lock);
  d->outstanding--;
  pthread_cond_broadcast(&d->cond);
  pthread_mutex_unlock(&d->lock);
}

bool df__rdone_wait(df__rdone *d, int ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&d->lock);
  int rc = 0;
  while (d->outstanding > 0 && rc != ETIMEDOUT) {
    rc = pthread_cond_timedwait(&d->cond, &d->lock, &until);
  }
  bool done = d->outstanding <= 0;
  pthread_mutex_unlock(&d->lock);
  return done;
}

void df__rdone_destroy(df__rdone *d) {
  pthread_cond_destroy(&d->cond);
  pthread_mutex_destroy(&d->lock);
}
