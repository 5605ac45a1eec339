/* C1: waking the reactor from other threads through the self-pipe.
 * df_call_from_thread from many threads, coalescing of wake-ups, df_async,
 * a full pipe, and the absence of lost wake-ups under load: a lost wake-up
 * leaves df_reactor_run() blocked, and the suite's timeout catches it.
 * Threaded: TSan runs this suite.
 *
 * Fault injection: this suite defines write(), which the library's static
 * copy calls for its wake-up byte. On a thread that asks for it, the write
 * stalls first: the last step of a thread-safe entry is held while the
 * reactor already sees the entry's work. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <deferred.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "dft.h"
#include "dft_reactor.h"

#define THREADS 4
#ifdef DF_SANITIZED
#define PER_THREAD 2000
#else
#define PER_THREAD 20000
#endif

/* ------------------------------------------------------------ many threads */

/* Touched only on the reactor thread: no atomics needed, and TSan checks
 * that claim. */
typedef struct call_state {
  df_reactor *r;
  long received;
  long expected;
  int last_seq[THREADS];
  bool in_order;
  bool on_reactor_thread;
} call_state;

typedef struct call_msg {
  call_state *st;
  int thread;
  int seq;
} call_msg;

static call_msg msgs[THREADS][PER_THREAD];

static void on_call(void *arg) {
  call_msg *m = arg;
  call_state *st = m->st;
  if (!df_reactor_in_thread(st->r))
    st->on_reactor_thread = false;
  if (m->seq != st->last_seq[m->thread] + 1)
    st->in_order = false;
  st->last_seq[m->thread] = m->seq;
  if (++st->received == st->expected)
    df_reactor_stop(st->r);
}

typedef struct producer {
  call_state *st;
  int thread;
  int failures;
} producer;

static void *produce_calls(void *arg) {
  producer *p = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    call_msg *m = &msgs[p->thread][i];
    m->st = p->st;
    m->thread = p->thread;
    m->seq = i;
    if (df_call_from_thread(p->st->r, on_call, m) != 0)
      p->failures++;
  }
  return NULL;
}

static void test_c1_calls_from_many_threads_run_on_reactor_thread(void) {
  df_reactor *r = dft_reactor_begin(false);
  call_state st = {.r = r,
                   .expected = (long)THREADS * PER_THREAD,
                   .in_order = true,
                   .on_reactor_thread = true};
  pthread_t th[THREADS];
  producer prod[THREADS];
  for (int t = 0; t < THREADS; t++)
    st.last_seq[t] = -1;
  for (int t = 0; t < THREADS; t++) {
    prod[t] = (producer){.st = &st, .thread = t};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, produce_calls, &prod[t]),
                          0);
  }
  /* Returns only if no wake-up was lost: the last call stops it. */
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  for (int t = 0; t < THREADS; t++) {
    pthread_join(th[t], NULL);
    CU_ASSERT_EQUAL(prod[t].failures, 0);
  }
  CU_ASSERT_EQUAL(st.received, st.expected);
  CU_ASSERT_TRUE(st.in_order); /* per thread, in the order they were made */
  CU_ASSERT_TRUE(st.on_reactor_thread);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ coalescing */

static void count_call(void *arg) { (*(long *)arg)++; }

/* Calls made while the reactor is not looking share one wake-up, and one
 * round runs all of them (one snapshot). */
static void test_c1_calls_coalesce_into_one_wakeup(void) {
  df_reactor *r = dft_reactor_begin(false);
  df__wakeup *w = df__reactor_wakeup(r);
  long ran = 0;
  int queued = 0;
  for (int i = 0; i < 1000; i++)
    if (df_call_from_thread(r, count_call, &ran) == 0)
      queued++;
  CU_ASSERT_EQUAL(queued, 1000);
  /* Exactly one byte in the self-pipe. */
  char buf[16];
  CU_ASSERT_EQUAL(read(w->read_fd, buf, sizeof buf), 1);
  CU_ASSERT_EQUAL(write(w->write_fd, buf, 1), 1); /* put it back */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(ran, 1000);
  CU_ASSERT_FALSE(dft_fd_readable(df_reactor_fd(r)));
  dft_reactor_end(r);
}

typedef struct sender {
  df_async *a;
  atomic_int *wrote;
  int sends;
} sender;

static void *send_many(void *arg) {
  sender *s = arg;
  for (int i = 0; i < s->sends; i++)
    if (df_async_send(s->a) == 1)
      atomic_fetch_add(s->wrote, 1);
  return NULL;
}

/* While nothing dispatches, sends from many threads write one byte in all:
 * the first returns 1, every other one 0; the function then runs once. */
static void test_c1_async_sends_coalesce_across_threads(void) {
  df_reactor *r = dft_reactor_begin(false);
  long ran = 0;
  atomic_int wrote = 0;
  df_async *a;
  df_async_new(&a, r, count_call, &ran);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  pthread_t th[THREADS];
  sender s[THREADS];
  for (int t = 0; t < THREADS; t++) {
    s[t] = (sender){.a = a, .wrote = &wrote, .sends = 1000};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, send_many, &s[t]), 0);
  }
  for (int t = 0; t < THREADS; t++)
    pthread_join(th[t], NULL);
  CU_ASSERT_EQUAL(atomic_load(&wrote), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(ran, 1);
  /* The flag was cleared: the next send wakes again. */
  CU_ASSERT_EQUAL(df_async_send(a), 1);
  CU_ASSERT_EQUAL(df_async_send(a), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(ran, 2);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(ran, 2);
  df_async_free(a);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ full pipe */

/* The self-pipe is full (writes get EAGAIN): wake-ups are not lost, the
 * calls still run, and one round empties the pipe. */
static void test_c1_full_self_pipe_loses_no_wakeup(void) {
  df_reactor *r = dft_reactor_begin(false);
  df__wakeup *w = df__reactor_wakeup(r);
  char block[4096];
  long filled = 0;
  memset(block, 1, sizeof block);
  for (;;) {
    ssize_t n = write(w->write_fd, block, sizeof block);
    if (n <= 0)
      break;
    filled += n;
  }
  CU_ASSERT_TRUE(errno == EAGAIN);
  for (;;) { /* the last bytes, one at a time */
    if (write(w->write_fd, block, 1) != 1)
      break;
    filled++;
  }
  CU_ASSERT_TRUE(filled > 0);
  long ran = 0;
  df_async *a;
  df_async_new(&a, r, count_call, &ran);
  CU_ASSERT_EQUAL(df_async_send(a), 1); /* wrote: got EAGAIN, still a wake */
  CU_ASSERT_EQUAL(df_call_from_thread(r, count_call, &ran), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(ran, 2);
  CU_ASSERT_FALSE(dft_fd_readable(df_reactor_fd(r)));
  df_async_free(a);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ df_async */

/* A pool-like hand-off: producers publish under their own lock, then send;
 * the consumer takes everything under the lock. Every item is seen. */
typedef struct handoff {
  pthread_mutex_t lock;
  long queued; /* under lock */
  long taken;  /* reactor thread */
  long expected;
  df_reactor *r;
  df_async *a;
} handoff;

static void take_items(void *arg) {
  handoff *h = arg;
  pthread_mutex_lock(&h->lock);
  long n = h->queued;
  h->queued = 0;
  pthread_mutex_unlock(&h->lock);
  h->taken += n;
  if (h->taken == h->expected)
    df_reactor_stop(h->r);
}

static void *produce_items(void *arg) {
  handoff *h = arg;
  for (int i = 0; i < PER_THREAD; i++) {
    pthread_mutex_lock(&h->lock);
    h->queued++;
    pthread_mutex_unlock(&h->lock);
    (void)df_async_send(h->a);
  }
  return NULL;
}

static void test_c1_async_handoff_loses_nothing(void) {
  df_reactor *r = dft_reactor_begin(false);
  handoff h = {.expected = (long)THREADS * PER_THREAD, .r = r};
  pthread_mutex_init(&h.lock, NULL);
  df_async_new(&h.a, r, take_items, &h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h.a);
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++)
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th[t], NULL, produce_items, &h), 0);
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  for (int t = 0; t < THREADS; t++)
    pthread_join(th[t], NULL);
  CU_ASSERT_EQUAL(h.taken, h.expected);
  df_async_free(h.a);
  pthread_mutex_destroy(&h.lock);
  dft_reactor_end(r);
}

/* Freed inside its own function, or with a send pending: nothing runs after. */
static df_async *self_freeing;

static void free_self(void *arg) {
  (*(long *)arg)++;
  df_async_free(self_freeing);
  self_freeing = NULL;
}

static void test_c1_async_free_inside_own_function_and_when_pending(void) {
  df_reactor *r = dft_reactor_begin(false);
  long ran = 0, dropped = 0;
  df_async_new(&self_freeing, r, free_self, &ran);
  df_async *pending;
  df_async_new(&pending, r, count_call, &dropped);
  CU_ASSERT_EQUAL(df_async_send(self_freeing), 1);
  CU_ASSERT_EQUAL(df_async_send(pending), 1);
  df_async_free(pending); /* its wake-up byte stays in the pipe */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(ran, 1);
  CU_ASSERT_EQUAL(dropped, 0);
  CU_ASSERT_PTR_NULL(self_freeing);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ stop */

static void *stop_from_thread(void *arg) {
  df_reactor_stop(arg);
  return NULL;
}

static void test_c1_stop_from_another_thread(void) {
  df_reactor *r = dft_reactor_begin(false);
  pthread_t th;
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stop_from_thread, r), 0);
  /* Either order works: a stop made before the run ends it after a round. */
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  pthread_join(th, NULL);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ lifetime */

static _Thread_local bool stall_writes;
static atomic_int write_stalled;  /* a stalled write has begun */
static atomic_int write_finished; /* and has returned */

ssize_t write(int fd, const void *buf, size_t len) {
  if (stall_writes) {
    struct timespec pause = {0, 50 * 1000 * 1000};
    atomic_store(&write_stalled, 1);
    nanosleep(&pause, NULL);
  }
  ssize_t n = (ssize_t)syscall(SYS_write, fd, buf, len);
  if (stall_writes)
    atomic_store(&write_finished, 1);
  return n;
}

static void stall_reset(void) {
  atomic_store(&write_stalled, 0);
  atomic_store(&write_finished, 0);
}

static void wait_for_stalled_write(void) {
  while (!atomic_load(&write_stalled))
    sched_yield();
}

static void *stop_with_stalled_write(void *arg) {
  stall_writes = true;
  df_reactor_stop(arg);
  return NULL;
}

/* The stop is visible before its wake-up byte is written, so the run ends
 * while the stopping thread is still inside df_reactor_stop(): freeing the
 * reactor then waits for it instead of pulling the pipe from under it. */
static void test_c1_free_waits_for_a_stop_still_waking(void) {
  df_reactor *r = dft_reactor_begin(false);
  pthread_t th;
  stall_reset();
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, stop_with_stalled_write, r),
                        0);
  wait_for_stalled_write();
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 1);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_EQUAL(atomic_load(&write_finished), 1);
  pthread_join(th, NULL);
  dft_end();
}

typedef struct stalled_call {
  df_reactor *r;
  long ran;
  int rc;
} stalled_call;

static void *call_with_stalled_write(void *arg) {
  stalled_call *c = arg;
  stall_writes = true;
  c->rc = df_call_from_thread(c->r, count_call, &c->ran);
  return NULL;
}

/* Another handle's wake-up is pending, so the reactor runs the call before
 * the calling thread has written its own byte; the call has run, nothing is
 * queued, and freeing the reactor waits for that thread to finish. */
static void test_c1_free_waits_for_a_call_still_waking(void) {
  df_reactor *r = dft_reactor_begin(false);
  long other = 0;
  df_async *a;
  df_async_new(&a, r, count_call, &other);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(df_async_send(a), 1);
  stalled_call c = {.r = r};
  pthread_t th;
  stall_reset();
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, call_with_stalled_write, &c),
                        0);
  wait_for_stalled_write();
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.ran, 1);
  CU_ASSERT_EQUAL(other, 1);
  df_async_free(a);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  CU_ASSERT_EQUAL(atomic_load(&write_finished), 1);
  pthread_join(th, NULL);
  CU_ASSERT_EQUAL(c.rc, 0);
  dft_end();
}

/* A stop made while another wake-up is pending rides on it (no byte of its
 * own): the round that takes that wake-up must also see the stop. Repeated,
 * so the two threads meet at every point of the hand-off; a lost stop
 * leaves df_reactor_run() blocked. */
#ifdef DF_SANITIZED
#define STOP_RACES 200
#else
#define STOP_RACES 2000
#endif

static void ignore_call(void *arg) { (void)arg; }

static void *call_then_stop(void *arg) {
  (void)df_call_from_thread(arg, ignore_call, NULL);
  df_reactor_stop(arg);
  return NULL;
}

static void test_c1_stop_riding_on_a_pending_wakeup_is_not_lost(void) {
  df_reactor *r = dft_reactor_begin(false);
  for (int i = 0; i < STOP_RACES; i++) {
    pthread_t th;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, call_then_stop, r), 0);
    CU_ASSERT_EQUAL(df_reactor_run(r), 0);
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0); /* a call left over */
  }
  dft_reactor_end(r);
}

static CU_TestInfo tests[] = {
    {"c1_calls_from_many_threads_run_on_reactor_thread",
     test_c1_calls_from_many_threads_run_on_reactor_thread},
    {"c1_calls_coalesce_into_one_wakeup",
     test_c1_calls_coalesce_into_one_wakeup},
    {"c1_async_sends_coalesce_across_threads",
     test_c1_async_sends_coalesce_across_threads},
    {"c1_full_self_pipe_loses_no_wakeup",
     test_c1_full_self_pipe_loses_no_wakeup},
    {"c1_async_handoff_loses_nothing", test_c1_async_handoff_loses_nothing},
    {"c1_async_free_inside_own_function_and_when_pending",
     test_c1_async_free_inside_own_function_and_when_pending},
    {"c1_stop_from_another_thread", test_c1_stop_from_another_thread},
    {"c1_free_waits_for_a_stop_still_waking",
     test_c1_free_waits_for_a_stop_still_waking},
    {"c1_free_waits_for_a_call_still_waking",
     test_c1_free_waits_for_a_call_still_waking},
    {"c1_stop_riding_on_a_pending_wakeup_is_not_lost",
     test_c1_stop_riding_on_a_pending_wakeup_is_not_lost},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main("wakeup", tests); }
