/* The queue of waiting jobs, by class, and the workers sleeping on it.
 *
 * One mutex (mutex.c) guards both, after libuv's threadpool.c: the reactor
 * thread takes it to queue or cancel a job, a worker to take one. Its
 * critical sections are a few pointer moves; jobs run with no lock held.
 *
 * The concurrency contract: a queued job never waits while a thread could
 * run it. The queue keeps one invariant for it, checked each time a job is
 * queued:
 *
 *     length <= seekers, or no worker sleeps (and no more may start),
 *
 * where seekers are the workers awake and not running a job (woken and on
 * their way, or back from their last job): each of them takes a job, one
 * per lock, before it may sleep again. A job that would make the queue
 * longer than its seekers wakes one sleeper, or starts a thread when none
 * sleeps and the pool may grow. So a burst of jobs wakes as many workers as
 * it has jobs, up to the workers there are, and a stream of short jobs that
 * the awake workers keep up with wakes nobody.
 *
 * A sleeping worker waits on a futex word of its own; whoever wakes it takes
 * it off the list under the mutex, sets the word and wakes the futex: a
 * submission does it still under the mutex, a close after releasing it;
 * the sleeper handles both (it takes the post before it sleeps again). Not a
 * condition variable: glibc's pthread_cond_signal() may wait, on a futex,
 * for the waiters it woke earlier, and that would be the reactor thread
 * waiting for a worker to be scheduled. Not a semaphore either: sem_wait()
 * costs about four times the instructions of the bare futex call, on a
 * path every idle worker takes. A post never waits, and a post made before
 * the sleeper waits is not lost: the sleeper checks the word first.
 *
 * Classes: the oldest job of the most urgent class goes first, except that
 * a class kept waiting while DF__AGING_LIMIT jobs of other classes started
 * goes next (the one kept waiting longest, when two are due). Under a
 * constant flow of high-priority jobs, normal and low ones still start, one
 * in every DF__AGING_LIMIT + 1 or so, instead of never. */
#include <errno.h>

#include "deferred/error.h"
#include "futex.h"
#include "jobqueue.h"

void df__jobq_init(df__jobq *q) {
  df__mutex_init(&q->mutex);
  for (unsigned c = 0; c < DF__CLASSES; c++) {
    df__queue_init(&q->classes[c]);
    q->passed[c] = 0;
  }
  q->length = 0;
  atomic_init(&q->waiting, 0);
  q->asleep = NULL;
  q->nasleep = 0;
  q->threads = 0;
  q->busy = 0;
  q->stopping = false;
}

/* The class bits change under the mutex only, so relaxed accesses suffice
 * there; df__jobq_has_jobs() reads them without it. */
static unsigned waiting_locked(df__jobq *q) {
  return atomic_load_explicit(&q->waiting, memory_order_relaxed);
}

static void set_waiting_locked(df__jobq *q, unsigned waiting) {
  atomic_store_explicit(&q->waiting, waiting, memory_order_relaxed);
}

static unsigned seekers_locked(const df__jobq *q) {
  return q->threads - q->nasleep - q->busy;
}

static df__sleeper *pop_sleeper_locked(df__jobq *q) {
  df__sleeper *s = q->asleep;
  q->asleep = s->next;
  q->nasleep--;
  s->next = NULL;
  s->listed = false;
  return s;
}

df__wake df__jobq_push_locked(df__jobq *q, df__queue *link, unsigned cls,
                              unsigned max_threads) {
  df__wake wake = {NULL, false};
  unsigned waiting = waiting_locked(q);
  if (!(waiting & (1u << cls))) {
    set_waiting_locked(q, waiting | 1u << cls);
    q->passed[cls] = 0; /* counts only while the class waits */
  }
  df__queue_insert_tail(&q->classes[cls], link);
  q->length++;
  if (q->length <= seekers_locked(q))
    return wake;
  if (q->asleep != NULL) {
    wake.sleeper = pop_sleeper_locked(q);
  } else if (q->threads < max_threads && !q->stopping) {
    q->threads++; /* a seeker from now on */
    wake.start_thread = true;
  }
  return wake;
}

/* Unlinks a job of class \p cls, keeping `waiting` up to date. */
static void unlink_job(df__jobq *q, df__queue *link, unsigned cls) {
  df__queue_remove(link);
  if (df__queue_empty(&q->classes[cls]))
    set_waiting_locked(q, waiting_locked(q) & ~(1u << cls));
  q->length--;
}

/* The class that goes next when several wait: the most urgent one, unless
 * a less urgent one has been passed over DF__AGING_LIMIT times. Each
 * waiting class not picked is passed over once more. */
static unsigned next_of_several_locked(df__jobq *q) {
  unsigned waiting = waiting_locked(q);
  unsigned pick = (unsigned)__builtin_ctz(waiting);
  unsigned longest = DF__AGING_LIMIT - 1;
  for (unsigned c = pick + 1; c < DF__CLASSES; c++) {
    if ((waiting & (1u << c)) && q->passed[c] > longest) {
      longest = q->passed[c];
      pick = c;
    }
  }
  for (unsigned c = 0; c < DF__CLASSES; c++)
    if (c != pick && (waiting & (1u << c)))
      q->passed[c]++;
  q->passed[pick] = 0;
  return pick;
}

df__queue *df__jobq_pop_locked(df__jobq *q) {
  unsigned waiting = waiting_locked(q);
  if (waiting == 0)
    return NULL;
  /* One class waiting, the usual case: nobody is passed over. */
  unsigned cls = (waiting & (waiting - 1)) == 0
                     ? (unsigned)__builtin_ctz(waiting)
                     : next_of_several_locked(q);
  df__queue *link = df__queue_head(&q->classes[cls]);
  unlink_job(q, link, cls);
  return link;
}

void df__jobq_remove_locked(df__jobq *q, df__queue *link, unsigned cls) {
  unlink_job(q, link, cls);
}

/* One pop at a time, not df__queue_move() on each class: when several
 * classes wait, the order they would have started interleaves them (aging),
 * and each pop keeps `waiting` and the aging counts right. */
void df__jobq_take_all_locked(df__jobq *q, df__queue *out) {
  df__queue *link;
  while ((link = df__jobq_pop_locked(q)) != NULL) {
    df__queue_insert_tail(out, link);
    q->length++; /* still waiting, in `out` */
  }
}

void df__jobq_remove_taken_locked(df__jobq *q, df__queue *link) {
  df__queue_remove(link);
  q->length--;
}

void df__sleeper_init(df__sleeper *s) {
  s->next = NULL;
  s->listed = false;
  atomic_init(&s->posted, 0);
}

void df__sleeper_post(df__sleeper *s) {
  atomic_store_explicit(&s->posted, 1, memory_order_release);
  df__futex_wake(&s->posted);
}

/* Takes a post: 0, or -1 when \p deadline (CLOCK_MONOTONIC, NULL: none)
 * passed first. */
static int wait_until(df__sleeper *s, const struct timespec *deadline) {
  for (;;) {
    if (atomic_exchange_explicit(&s->posted, 0, memory_order_acquire) == 1)
      return 0;
    /* Sleeps only while the word is still 0. */
    if (df__futex_wait(&s->posted, 0, deadline) == ETIMEDOUT)
      return atomic_exchange_explicit(&s->posted, 0, memory_order_acquire) == 1
                 ? 0
                 : -1;
  }
}

static void unlist_locked(df__jobq *q, df__sleeper *s) {
  df__sleeper **at = &q->asleep;
  while (*at != s)
    at = &(*at)->next;
  *at = s->next;
  s->next = NULL;
  s->listed = false;
  q->nasleep--;
}

bool df__jobq_sleep_locked(df__jobq *q, df__sleeper *s,
                           const struct timespec *deadline) {
  s->next = q->asleep;
  s->listed = true;
  q->asleep = s;
  q->nasleep++;
  df__mutex_unlock(&q->mutex);
  int rc = wait_until(s, deadline);
  df__mutex_lock(&q->mutex);
  if (rc == 0)
    return true;
  if (!s->listed) {
    /* Taken off the list as the deadline passed: the waker has released
     * the mutex and posts, so take the post now or the next sleep would end
     * at once. */
    (void)wait_until(s, NULL);
    return true;
  }
  unlist_locked(q, s);
  return false;
}

df__sleeper *df__jobq_take_sleepers_locked(df__jobq *q) {
  df__sleeper *list = q->asleep;
  for (df__sleeper *s = list; s != NULL; s = s->next)
    s->listed = false;
  q->asleep = NULL;
  q->nasleep = 0;
  return list;
}
