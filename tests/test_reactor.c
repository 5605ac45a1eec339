/* C1/S29: the reactor itself. Rounds and their phases, run/stop, fd watches
 * (interest changes, stop from anywhere in a round, stale events), the
 * pollable reactor fd, the reactor thread, and freeing only when idle. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <deferred.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dft.h"
#include "dft_reactor.h"

/* Counts events per watch; drains the fd so the next round is quiet. */
typedef struct counter {
  int calls;
  unsigned last;
  bool drain;
  bool stop_self;
} counter;

static void count_events(df_watch *w, int fd, unsigned events, void *arg) {
  counter *c = arg;
  char buf[64];
  c->calls++;
  c->last = events;
  if (c->drain)
    while (read(fd, buf, sizeof buf) > 0) {
    }
  if (c->stop_self)
    df_watch_stop(w);
}

/* ------------------------------------------------------------ run, stop */

static void test_c1_stop_before_run_returns_after_one_round(void) {
  df_reactor *r = dft_reactor_begin(false);
  df_reactor_stop(r);
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  dft_reactor_end(r);
}

static void test_c1_run_once_reports_and_consumes_stop(void) {
  df_reactor *r = dft_reactor_begin(true);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  df_reactor_stop(r);
  df_reactor_stop(r);                             /* two requests, one stop */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, -1), 1); /* does not block */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  dft_reactor_end(r);
}

static df_reactor *stop_target;

static void stop_now(void *arg) {
  dft_trace_arg(arg);
  df_reactor_stop(stop_target);
}

/* A stop asked inside a round ends the run after that round; the calls
 * still queued are not lost but run later. */
static void test_c1_stop_inside_round_keeps_queued_work(void) {
  df_reactor *r = dft_reactor_begin(true);
  stop_target = r;
  CU_ASSERT_EQUAL(df_call_from_thread(r, stop_now, DFT_S("stop")), 0);
  df_call_later(NULL, r, 0.0, dft_trace_arg, DFT_S("timer"));
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  CU_ASSERT_TRUE(dft_trace_equals("stop timer"));
  CU_ASSERT_EQUAL(df_call_from_thread(r, dft_trace_arg, DFT_S("later")), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("stop timer later"));
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ phases */

static void io_trace(df_watch *w, int fd, unsigned events, void *arg) {
  (void)fd, (void)events;
  dft_trace_arg(arg);
  df_watch_stop(w);
}

static void test_c1_round_runs_io_then_thread_calls_then_timers(void) {
  df_reactor *r = dft_reactor_begin(true);
  int fds[2];
  dft_pipe(fds);
  df_call_later(NULL, r, 0.0, dft_trace_arg, DFT_S("timers"));
  CU_ASSERT_EQUAL(df_call_from_thread(r, dft_trace_arg, DFT_S("calls")), 0);
  df_watch *w;
  CU_ASSERT_EQUAL(
      df_watch_fd(&w, r, fds[0], DF_READABLE, io_trace, DFT_S("io")), 0);
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("io calls timers"));
  dft_pipe_close(fds);
  dft_reactor_end(r);
}

/* A call queued from a thread call waits for the next round (snapshot). */
static df_reactor *requeue_target;

static void requeue(void *arg) {
  dft_trace_arg(arg);
  df_call_from_thread(requeue_target, dft_trace_arg, DFT_S("second"));
}

static void test_c1_call_queued_in_round_waits_for_next_round(void) {
  df_reactor *r = dft_reactor_begin(true);
  requeue_target = r;
  df_call_from_thread(r, requeue, DFT_S("first"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first second"));
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ watches */

static void test_c1_watch_is_level_triggered(void) {
  df_reactor *r = dft_reactor_begin(true);
  int fds[2];
  counter c = {0};
  dft_pipe(fds);
  df_watch *w;
  df_watch_fd(&w, r, fds[0], DF_READABLE, count_events, &c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 0);
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 2); /* not read: reported again */
  CU_ASSERT_EQUAL(c.last, DF_READABLE);
  c.drain = true;
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 3);
  df_watch_stop(w);
  dft_pipe_close(fds);
  dft_reactor_end(r);
}

/* A connected pair of non-blocking stream sockets (writable at once). */
static void socket_pair(int sv[2]) {
  CU_ASSERT_EQUAL_FATAL(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
      0);
}

static void test_c1_watch_update_changes_interest(void) {
  df_reactor *r = dft_reactor_begin(true);
  int sv[2];
  counter c = {0};
  socket_pair(sv);
  df_watch *w;
  df_watch_fd(&w, r, sv[0], DF_WRITABLE, count_events, &c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_EQUAL(c.last, DF_WRITABLE);
  /* Readable only: quiet until the peer writes. */
  CU_ASSERT_EQUAL(df_watch_update(w, DF_READABLE), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_EQUAL(write(sv[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_watch_update(w, DF_READABLE | DF_WRITABLE), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 2);
  CU_ASSERT_EQUAL(c.last, DF_READABLE | DF_WRITABLE);
  /* Paused: nothing, then resumed. */
  CU_ASSERT_EQUAL(df_watch_update(w, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 2);
  CU_ASSERT_EQUAL(df_watch_update(w, DF_READABLE), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 3);
  CU_ASSERT_EQUAL(df_watch_update(w, 4), DF_EINVAL);
  CU_ASSERT_EQUAL(df_watch_update(NULL, DF_READABLE), DF_EINVAL);
  df_watch_stop(w);
  dft_pipe_close(sv);
  dft_reactor_end(r);
}

static void test_c1_watch_reports_hangup(void) {
  df_reactor *r = dft_reactor_begin(true);
  int sv[2];
  counter c = {0};
  socket_pair(sv);
  /* Interest in writing only: the hang-up is reported anyway. */
  df_watch *w;
  df_watch_fd(&w, r, sv[0], DF_WRITABLE, count_events, &c);
  close(sv[1]);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_TRUE((c.last & DF_HANGUP) != 0);
  /* Paused: not even the hang-up, and the round does not spin on it. */
  CU_ASSERT_EQUAL(df_watch_update(w, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_FALSE(dft_fd_readable(df_reactor_fd(r)));
  df_watch_stop(w);
  close(sv[0]);
  dft_reactor_end(r);
}

static void test_c1_watch_stop_inside_own_callback(void) {
  df_reactor *r = dft_reactor_begin(true);
  int fds[2];
  counter c = {.stop_self = true};
  dft_pipe(fds);
  df_watch *w;
  CU_ASSERT_EQUAL(df_watch_fd(&w, r, fds[0], DF_READABLE, count_events, &c), 0);
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1); /* still readable, but stopped */
  dft_pipe_close(fds);
  dft_reactor_end(r);
}

/* Two watches ready in the same round; whichever runs first stops the other
 * one (whose event is already in the batch): it never runs. */
typedef struct pair_watch {
  df_watch *self;
  struct pair_watch *other;
  int calls;
} pair_watch;

static void stop_the_other(df_watch *w, int fd, unsigned events, void *arg) {
  pair_watch *p = arg;
  (void)w, (void)fd, (void)events;
  p->calls++;
  if (p->other->self != NULL) {
    df_watch_stop(p->other->self);
    p->other->self = NULL;
  }
}

static void test_c1_watch_stopped_by_another_in_same_round(void) {
  df_reactor *r = dft_reactor_begin(true);
  int a[2], b[2];
  pair_watch pa = {0}, pb = {0};
  dft_pipe(a);
  dft_pipe(b);
  pa.other = &pb;
  pb.other = &pa;
  df_watch_fd(&pa.self, r, a[0], DF_READABLE, stop_the_other, &pa);
  df_watch_fd(&pb.self, r, b[0], DF_READABLE, stop_the_other, &pb);
  CU_ASSERT_EQUAL(write(a[1], "x", 1), 1);
  CU_ASSERT_EQUAL(write(b[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(pa.calls + pb.calls, 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(pa.calls + pb.calls, 2); /* the survivor, level-triggered */
  df_watch_stop(pa.self);
  df_watch_stop(pb.self);
  dft_pipe_close(a);
  dft_pipe_close(b);
  dft_reactor_end(r);
}

/* Two watches ready in the same round; whichever runs first stops the other
 * and watches the other's fd with a new watch. The stopped watch's event,
 * already in the batch, reaches nobody (neither the old watch nor the new
 * one); the new watch hears from the fd from the next round on. */
typedef struct swap_side {
  df_watch *w;
  int fd;
  int calls;
  struct swap_side *other;
} swap_side;

static df_reactor *swap_reactor;
static df_watch *replacement;
static counter replacement_count;

static void swap_cb(df_watch *w, int fd, unsigned events, void *arg) {
  swap_side *side = arg;
  (void)w, (void)fd, (void)events;
  side->calls++;
  if (replacement != NULL)
    return;
  df_watch_stop(side->other->w);
  side->other->w = NULL;
  df_watch_fd(&replacement, swap_reactor, side->other->fd, DF_READABLE,
              count_events, &replacement_count);
}

static void test_c1_watch_replaced_in_same_round_ignores_stale_event(void) {
  df_reactor *r = dft_reactor_begin(true);
  int a[2], b[2];
  swap_side sa = {0}, sb = {0};
  dft_pipe(a);
  dft_pipe(b);
  swap_reactor = r;
  replacement = NULL;
  replacement_count = (counter){0};
  sa = (swap_side){.fd = a[0], .other = &sb};
  sb = (swap_side){.fd = b[0], .other = &sa};
  df_watch_fd(&sa.w, r, a[0], DF_READABLE, swap_cb, &sa);
  df_watch_fd(&sb.w, r, b[0], DF_READABLE, swap_cb, &sb);
  CU_ASSERT_EQUAL(write(a[1], "x", 1), 1);
  CU_ASSERT_EQUAL(write(b[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(sa.calls + sb.calls, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(replacement);
  CU_ASSERT_EQUAL(replacement_count.calls, 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(sa.calls + sb.calls, 2);
  CU_ASSERT_EQUAL(replacement_count.calls, 1);
  df_watch_stop(sa.w != NULL ? sa.w : sb.w);
  df_watch_stop(replacement);
  dft_pipe_close(a);
  dft_pipe_close(b);
  dft_reactor_end(r);
}

/* More ready fds than one batch: every one is served within two rounds. */
#define MANY 200

static void test_c1_more_ready_fds_than_one_batch(void) {
  df_reactor *r = dft_reactor_begin(true);
  static int fds[MANY][2];
  static counter counts[MANY];
  static df_watch *watches[MANY];
  for (int i = 0; i < MANY; i++) {
    dft_pipe(fds[i]);
    counts[i] = (counter){.drain = true};
    df_watch_fd(&watches[i], r, fds[i][0], DF_READABLE, count_events,
                &counts[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(watches[i]);
    CU_ASSERT_EQUAL(write(fds[i][1], "x", 1), 1);
  }
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  for (int i = 0; i < MANY; i++) {
    CU_ASSERT_EQUAL(counts[i].calls, 1);
    df_watch_stop(watches[i]);
    dft_pipe_close(fds[i]);
  }
  dft_reactor_end(r);
}

static void never_called(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w, (void)fd, (void)events, (void)arg;
  CU_FAIL("a watch that was refused got an event");
}

static void test_c1_watch_bad_arguments(void) {
  df_reactor *r = dft_reactor_begin(true);
  int fds[2];
  dft_pipe(fds);
  df_watch *w = (df_watch *)r; /* must be reset to NULL */
  CU_ASSERT_EQUAL(
      df_watch_fd(&w, NULL, fds[0], DF_READABLE, never_called, NULL),
      DF_EINVAL);
  CU_ASSERT_PTR_NULL(w);
  CU_ASSERT_EQUAL(df_watch_fd(NULL, r, fds[0], DF_READABLE, never_called, NULL),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(df_watch_fd(&w, r, -1, DF_READABLE, never_called, NULL),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(df_watch_fd(&w, r, fds[0], DF_READABLE, NULL, NULL),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(df_watch_fd(&w, r, fds[0], DF_HANGUP, never_called, NULL),
                  DF_EINVAL);
  CU_ASSERT_EQUAL(df_watch_fd(&w, r, fds[0], DF_READABLE, never_called, NULL),
                  0);
  CU_ASSERT_PTR_NOT_NULL(w);
  df_watch *other;
  CU_ASSERT_EQUAL(
      df_watch_fd(&other, r, fds[0], DF_READABLE, never_called, NULL), -EEXIST);
  CU_ASSERT_PTR_NULL(other);
  /* A regular file cannot be polled. */
  FILE *f = tmpfile();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(
      df_watch_fd(&other, r, fileno(f), DF_READABLE, never_called, NULL),
      -EPERM);
  fclose(f);
  dft_alloc_fail_nth(1);
  CU_ASSERT_EQUAL(
      df_watch_fd(&other, r, fds[1], DF_WRITABLE, never_called, NULL),
      DF_ENOMEM);
  dft_alloc_fail_none();
  df_watch_stop(w);
  df_watch_stop(NULL);
  dft_pipe_close(fds);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ freeing */

static void nothing(void *arg) { (void)arg; }

static void test_c1_free_is_busy_while_anything_is_live(void) {
  df_reactor *r = dft_reactor_begin(true);
  int fds[2];
  dft_pipe(fds);
  CU_ASSERT_EQUAL(df_reactor_free(NULL), 0);

  df_timer *t;
  df_call_later(&t, r, 1.0, nothing, NULL);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_timer_cancel(t);

  df_watch *w;
  df_watch_fd(&w, r, fds[0], 0, never_called, NULL);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_watch_stop(w);

  df_async *a;
  df_async_new(&a, r, nothing, NULL);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_async_free(a);

  CU_ASSERT_EQUAL(df_call_from_thread(r, nothing, NULL), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);

  dft_pipe_close(fds);
  dft_reactor_end(r);
}

static df_reactor *inner_target;
static int inner_free_rc, inner_run_rc;

static void try_free_and_run(void *arg) {
  (void)arg;
  inner_free_rc = df_reactor_free(inner_target);
  inner_run_rc = df_reactor_run_once(inner_target, 0);
}

static void test_c1_free_and_run_once_inside_a_round_are_busy(void) {
  df_reactor *r = dft_reactor_begin(true);
  inner_target = r;
  inner_free_rc = inner_run_rc = 0;
  df_call_from_thread(r, try_free_and_run, NULL);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(inner_free_rc, DF_EBUSY);
  CU_ASSERT_EQUAL(inner_run_rc, DF_EBUSY);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ embedding */

static void test_c1_reactor_fd_is_readable_when_a_round_has_work(void) {
  df_reactor *r = dft_reactor_begin(false);
  int fds[2];
  counter c = {.drain = true};
  int rfd = df_reactor_fd(r);
  dft_pipe(fds);
  CU_ASSERT_TRUE(rfd >= 0);
  CU_ASSERT_FALSE(dft_fd_readable(rfd));

  /* A watched fd. */
  df_watch *w;
  df_watch_fd(&w, r, fds[0], DF_READABLE, count_events, &c);
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_TRUE(dft_fd_readable(rfd));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_FALSE(dft_fd_readable(rfd));
  df_watch_stop(w);

  /* A thread call, and a stop. */
  df_call_from_thread(r, nothing, NULL);
  CU_ASSERT_TRUE(dft_fd_readable(rfd));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_FALSE(dft_fd_readable(rfd));
  df_reactor_stop(r);
  CU_ASSERT_TRUE(dft_fd_readable(rfd));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 1);
  CU_ASSERT_FALSE(dft_fd_readable(rfd));

  /* A timer falling due, without anyone computing a timeout. */
  df_call_later(NULL, r, 0.001, nothing, NULL);
  struct pollfd p = {.fd = rfd, .events = POLLIN};
  CU_ASSERT_EQUAL(poll(&p, 1, 10000), 1); /* returns as soon as it is due */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0); /* so the timer has run */
  dft_pipe_close(fds);
  dft_end();
}

/* ------------------------------------------------------------ thread */

typedef struct thread_probe {
  df_reactor *r;
  bool before;
  bool after;
  int rc;
} thread_probe;

static void *probe_thread(void *arg) {
  thread_probe *p = arg;
  p->before = df_reactor_in_thread(p->r);
  p->rc = df_reactor_run_once(p->r, 0);
  p->after = df_reactor_in_thread(p->r);
  return NULL;
}

static void test_c1_reactor_thread_is_the_one_running_it(void) {
  df_reactor *r = dft_reactor_begin(true);
  pthread_t th;
  thread_probe p = {.r = r};
  CU_ASSERT_TRUE(df_reactor_in_thread(r)); /* the creator, before any run */
  CU_ASSERT_EQUAL_FATAL(pthread_create(&th, NULL, probe_thread, &p), 0);
  pthread_join(th, NULL);
  CU_ASSERT_FALSE(p.before);
  CU_ASSERT_EQUAL(p.rc, 0);
  CU_ASSERT_TRUE(p.after);
  CU_ASSERT_FALSE(df_reactor_in_thread(r)); /* another thread ran it */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(df_reactor_in_thread(r));
  CU_ASSERT_FALSE(df_reactor_in_thread(NULL));
  dft_reactor_end(r);
}

static void test_c1_null_arguments(void) {
  dft_begin();
  df_reactor *r = NULL;
  CU_ASSERT_EQUAL(df_reactor_new(NULL, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_reactor_run(NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_reactor_run_once(NULL, 0), DF_EINVAL);
  CU_ASSERT_EQUAL(df_reactor_fd(NULL), DF_EINVAL);
  CU_ASSERT_DOUBLE_EQUAL(df_reactor_now(NULL), 0.0, 0.0);
  df_reactor_stop(NULL);
  CU_ASSERT_EQUAL(df_call_from_thread(NULL, nothing, NULL), DF_EINVAL);
  df_async *a = (df_async *)&r; /* must be reset to NULL */
  CU_ASSERT_EQUAL(df_async_new(&a, NULL, nothing, NULL), DF_EINVAL);
  CU_ASSERT_PTR_NULL(a);
  CU_ASSERT_EQUAL(df_async_new(NULL, NULL, nothing, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_async_send(NULL), DF_EINVAL);
  df_async_free(NULL);
  /* Out of memory while making a reactor: an error, nothing leaks. */
  dft_alloc_fail_nth(1);
  CU_ASSERT_EQUAL(df_reactor_new(&r, NULL), DF_ENOMEM);
  CU_ASSERT_PTR_NULL(r);
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  CU_ASSERT_EQUAL(df_call_from_thread(r, NULL, NULL), DF_EINVAL);
  df_async *none;
  CU_ASSERT_EQUAL(df_async_new(&none, r, NULL, NULL), DF_EINVAL);
  dft_reactor_end(r);
}

static void test_c1_system_clock_is_monotonic(void) {
  df_reactor *r = dft_reactor_begin(false);
  double a = df_reactor_now(r);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  double b = df_reactor_now(r);
  CU_ASSERT_TRUE(a > 0.0);
  CU_ASSERT_TRUE(b >= a);
  dft_reactor_end(r);
}

static CU_TestInfo tests[] = {
    {"c1_stop_before_run_returns_after_one_round",
     test_c1_stop_before_run_returns_after_one_round},
    {"c1_run_once_reports_and_consumes_stop",
     test_c1_run_once_reports_and_consumes_stop},
    {"c1_stop_inside_round_keeps_queued_work",
     test_c1_stop_inside_round_keeps_queued_work},
    {"c1_round_runs_io_then_thread_calls_then_timers",
     test_c1_round_runs_io_then_thread_calls_then_timers},
    {"c1_call_queued_in_round_waits_for_next_round",
     test_c1_call_queued_in_round_waits_for_next_round},
    {"c1_watch_is_level_triggered", test_c1_watch_is_level_triggered},
    {"c1_watch_update_changes_interest", test_c1_watch_update_changes_interest},
    {"c1_watch_reports_hangup", test_c1_watch_reports_hangup},
    {"c1_watch_stop_inside_own_callback",
     test_c1_watch_stop_inside_own_callback},
    {"c1_watch_stopped_by_another_in_same_round",
     test_c1_watch_stopped_by_another_in_same_round},
    {"c1_watch_replaced_in_same_round_ignores_stale_event",
     test_c1_watch_replaced_in_same_round_ignores_stale_event},
    {"c1_more_ready_fds_than_one_batch", test_c1_more_ready_fds_than_one_batch},
    {"c1_watch_bad_arguments", test_c1_watch_bad_arguments},
    {"c1_free_is_busy_while_anything_is_live",
     test_c1_free_is_busy_while_anything_is_live},
    {"c1_free_and_run_once_inside_a_round_are_busy",
     test_c1_free_and_run_once_inside_a_round_are_busy},
    {"c1_reactor_fd_is_readable_when_a_round_has_work",
     test_c1_reactor_fd_is_readable_when_a_round_has_work},
    {"c1_reactor_thread_is_the_one_running_it",
     test_c1_reactor_thread_is_the_one_running_it},
    {"c1_null_arguments", test_c1_null_arguments},
    {"c1_system_clock_is_monotonic", test_c1_system_clock_is_monotonic},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main("reactor", tests); }
