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

static df_reactor *reactor_new(bool manual) {
  df_reactor *r = NULL;
  df_reactor_options opts = {.manual_clock = manual};
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, &opts), 0);
  return r;
}

static bool trace_is(const char *expected) {
  if (strcmp(dft_trace_text(), expected) == 0)
    return true;
  fprintf(stderr, "\n  trace: '%s'\n  want:  '%s'\n", dft_trace_text(),
          expected);
  return false;
}

static void trace_tag(void *arg) { dft_trace("%s", (const char *)arg); }

static void make_pipe(int fds[2]) {
  CU_ASSERT_EQUAL_FATAL(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void close_pair(int fds[2]) {
  close(fds[0]);
  close(fds[1]);
}

static bool fd_readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

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
  dft_begin();
  df_reactor *r = reactor_new(false);
  df_reactor_stop(r);
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static void test_c1_run_once_reports_and_consumes_stop(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  df_reactor_stop(r);
  df_reactor_stop(r); /* two requests, one stop */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, -1), 1); /* does not block */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static df_reactor *stop_target;

static void stop_now(void *arg) {
  trace_tag(arg);
  df_reactor_stop(stop_target);
}

/* A stop asked inside a round ends the run after that round; the calls
 * still queued are not lost but run later. */
static void test_c1_stop_inside_round_keeps_queued_work(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  stop_target = r;
  CU_ASSERT_EQUAL(df_call_from_thread(r, stop_now, DFT_S("stop")), 0);
  df_call_later(r, 0.0, trace_tag, DFT_S("timer"));
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  CU_ASSERT_TRUE(trace_is("stop timer"));
  CU_ASSERT_EQUAL(df_call_from_thread(r, trace_tag, DFT_S("later")), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(trace_is("stop timer later"));
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

/* ------------------------------------------------------------ phases */

static void io_trace(df_watch *w, int fd, unsigned events, void *arg) {
  (void)fd, (void)events;
  trace_tag(arg);
  df_watch_stop(w);
}

static void test_c1_round_runs_io_then_thread_calls_then_timers(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int fds[2];
  make_pipe(fds);
  df_call_later(r, 0.0, trace_tag, DFT_S("timers"));
  CU_ASSERT_EQUAL(df_call_from_thread(r, trace_tag, DFT_S("calls")), 0);
  CU_ASSERT_PTR_NOT_NULL(df_watch_fd(r, fds[0], DF_READABLE, io_trace,
                                     DFT_S("io")));
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(trace_is("io calls timers"));
  close_pair(fds);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

/* A call queued from a thread call waits for the next round (snapshot). */
static df_reactor *requeue_target;

static void requeue(void *arg) {
  trace_tag(arg);
  df_call_from_thread(requeue_target, trace_tag, DFT_S("second"));
}

static void test_c1_call_queued_in_round_waits_for_next_round(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  requeue_target = r;
  df_call_from_thread(r, requeue, DFT_S("first"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(trace_is("first"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(trace_is("first second"));
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

/* ------------------------------------------------------------ watches */

static void test_c1_watch_is_level_triggered(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int fds[2];
  counter c = {0};
  make_pipe(fds);
  df_watch *w = df_watch_fd(r, fds[0], DF_READABLE, count_events, &c);
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
  close_pair(fds);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static void test_c1_watch_update_changes_interest(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int sv[2];
  counter c = {0};
  CU_ASSERT_EQUAL_FATAL(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  df_watch *w = df_watch_fd(r, sv[0], DF_WRITABLE, count_events, &c);
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
  close_pair(sv);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static void test_c1_watch_reports_hangup(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int sv[2];
  counter c = {0};
  CU_ASSERT_EQUAL_FATAL(
      socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
  /* Interest in writing only: the hang-up is reported anyway. */
  df_watch *w = df_watch_fd(r, sv[0], DF_WRITABLE, count_events, &c);
  close(sv[1]);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_TRUE((c.last & DF_HANGUP) != 0);
  /* Paused: not even the hang-up, and the round does not spin on it. */
  CU_ASSERT_EQUAL(df_watch_update(w, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_FALSE(fd_readable(df_reactor_fd(r)));
  df_watch_stop(w);
  close(sv[0]);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static void test_c1_watch_stop_inside_own_callback(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int fds[2];
  counter c = {.stop_self = true};
  make_pipe(fds);
  CU_ASSERT_PTR_NOT_NULL(df_watch_fd(r, fds[0], DF_READABLE, count_events, &c));
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1); /* still readable, but stopped */
  close_pair(fds);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
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
  dft_begin();
  df_reactor *r = reactor_new(true);
  int a[2], b[2];
  pair_watch pa = {0}, pb = {0};
  make_pipe(a);
  make_pipe(b);
  pa.other = &pb;
  pb.other = &pa;
  pa.self = df_watch_fd(r, a[0], DF_READABLE, stop_the_other, &pa);
  pb.self = df_watch_fd(r, b[0], DF_READABLE, stop_the_other, &pb);
  CU_ASSERT_EQUAL(write(a[1], "x", 1), 1);
  CU_ASSERT_EQUAL(write(b[1], "x", 1), 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(pa.calls + pb.calls, 1);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(pa.calls + pb.calls, 2); /* the survivor, level-triggered */
  df_watch_stop(pa.self);
  df_watch_stop(pb.self);
  close_pair(a);
  close_pair(b);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
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
  replacement = df_watch_fd(swap_reactor, side->other->fd, DF_READABLE,
                            count_events, &replacement_count);
}

static void test_c1_watch_replaced_in_same_round_ignores_stale_event(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int a[2], b[2];
  swap_side sa = {0}, sb = {0};
  make_pipe(a);
  make_pipe(b);
  swap_reactor = r;
  replacement = NULL;
  replacement_count = (counter){0};
  sa = (swap_side){.fd = a[0], .other = &sb};
  sb = (swap_side){.fd = b[0], .other = &sa};
  sa.w = df_watch_fd(r, a[0], DF_READABLE, swap_cb, &sa);
  sb.w = df_watch_fd(r, b[0], DF_READABLE, swap_cb, &sb);
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
  close_pair(a);
  close_pair(b);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

/* More ready fds than one batch: every one is served within two rounds. */
#define MANY 200

static void test_c1_more_ready_fds_than_one_batch(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  static int fds[MANY][2];
  static counter counts[MANY];
  static df_watch *watches[MANY];
  for (int i = 0; i < MANY; i++) {
    make_pipe(fds[i]);
    counts[i] = (counter){.drain = true};
    watches[i] =
        df_watch_fd(r, fds[i][0], DF_READABLE, count_events, &counts[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(watches[i]);
    CU_ASSERT_EQUAL(write(fds[i][1], "x", 1), 1);
  }
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  for (int i = 0; i < MANY; i++) {
    CU_ASSERT_EQUAL(counts[i].calls, 1);
    df_watch_stop(watches[i]);
    close_pair(fds[i]);
  }
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static void never_called(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w, (void)fd, (void)events, (void)arg;
  CU_FAIL("a watch that was refused got an event");
}

static void test_c1_watch_bad_arguments(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int fds[2];
  make_pipe(fds);
  errno = 0;
  CU_ASSERT_PTR_NULL(df_watch_fd(NULL, fds[0], DF_READABLE, never_called, NULL));
  CU_ASSERT_EQUAL(errno, EINVAL);
  CU_ASSERT_PTR_NULL(df_watch_fd(r, -1, DF_READABLE, never_called, NULL));
  CU_ASSERT_PTR_NULL(df_watch_fd(r, fds[0], DF_READABLE, NULL, NULL));
  CU_ASSERT_PTR_NULL(df_watch_fd(r, fds[0], DF_HANGUP, never_called, NULL));
  df_watch *w = df_watch_fd(r, fds[0], DF_READABLE, never_called, NULL);
  CU_ASSERT_PTR_NOT_NULL(w);
  errno = 0;
  CU_ASSERT_PTR_NULL(df_watch_fd(r, fds[0], DF_READABLE, never_called, NULL));
  CU_ASSERT_EQUAL(errno, EEXIST);
  /* A regular file cannot be polled. */
  FILE *f = tmpfile();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  errno = 0;
  CU_ASSERT_PTR_NULL(df_watch_fd(r, fileno(f), DF_READABLE, never_called, NULL));
  CU_ASSERT_EQUAL(errno, EPERM);
  fclose(f);
  dft_alloc_fail_nth(1);
  errno = 0;
  CU_ASSERT_PTR_NULL(df_watch_fd(r, fds[1], DF_WRITABLE, never_called, NULL));
  CU_ASSERT_EQUAL(errno, ENOMEM);
  dft_alloc_fail_none();
  df_watch_stop(w);
  df_watch_stop(NULL);
  close_pair(fds);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

/* ------------------------------------------------------------ freeing */

static void nothing(void *arg) { (void)arg; }

static void test_c1_free_is_busy_while_anything_is_live(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  int fds[2];
  make_pipe(fds);
  CU_ASSERT_EQUAL(df_reactor_free(NULL), 0);

  df_timer *t = df_call_later(r, 1.0, nothing, NULL);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_timer_cancel(t);

  df_watch *w = df_watch_fd(r, fds[0], 0, never_called, NULL);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_watch_stop(w);

  df_async *a = df_async_new(r, nothing, NULL);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_async_free(a);

  CU_ASSERT_EQUAL(df_call_from_thread(r, nothing, NULL), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);

  close_pair(fds);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static df_reactor *inner_target;
static int inner_free_rc, inner_run_rc;

static void try_free_and_run(void *arg) {
  (void)arg;
  inner_free_rc = df_reactor_free(inner_target);
  inner_run_rc = df_reactor_run_once(inner_target, 0);
}

static void test_c1_free_and_run_once_inside_a_round_are_busy(void) {
  dft_begin();
  df_reactor *r = reactor_new(true);
  inner_target = r;
  inner_free_rc = inner_run_rc = 0;
  df_call_from_thread(r, try_free_and_run, NULL);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(inner_free_rc, DF_EBUSY);
  CU_ASSERT_EQUAL(inner_run_rc, DF_EBUSY);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

/* ------------------------------------------------------------ embedding */

static void test_c1_reactor_fd_is_readable_when_a_round_has_work(void) {
  dft_begin();
  df_reactor *r = reactor_new(false);
  int fds[2];
  counter c = {.drain = true};
  int rfd = df_reactor_fd(r);
  make_pipe(fds);
  CU_ASSERT_TRUE(rfd >= 0);
  CU_ASSERT_FALSE(fd_readable(rfd));

  /* A watched fd. */
  df_watch *w = df_watch_fd(r, fds[0], DF_READABLE, count_events, &c);
  CU_ASSERT_EQUAL(write(fds[1], "x", 1), 1);
  CU_ASSERT_TRUE(fd_readable(rfd));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(c.calls, 1);
  CU_ASSERT_FALSE(fd_readable(rfd));
  df_watch_stop(w);

  /* A thread call, and a stop. */
  df_call_from_thread(r, nothing, NULL);
  CU_ASSERT_TRUE(fd_readable(rfd));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_FALSE(fd_readable(rfd));
  df_reactor_stop(r);
  CU_ASSERT_TRUE(fd_readable(rfd));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 1);
  CU_ASSERT_FALSE(fd_readable(rfd));

  /* A timer falling due, without anyone computing a timeout. */
  df_call_later(r, 0.001, nothing, NULL);
  struct pollfd p = {.fd = rfd, .events = POLLIN};
  CU_ASSERT_EQUAL(poll(&p, 1, 10000), 1); /* returns as soon as it is due */
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0); /* so the timer has run */
  close_pair(fds);
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
  dft_begin();
  df_reactor *r = reactor_new(true);
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
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
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
  CU_ASSERT_PTR_NULL(df_async_new(NULL, nothing, NULL));
  CU_ASSERT_EQUAL(df_async_send(NULL), DF_EINVAL);
  df_async_free(NULL);
  /* Out of memory while making a reactor: an error, nothing leaks. */
  dft_alloc_fail_nth(1);
  CU_ASSERT_EQUAL(df_reactor_new(&r, NULL), DF_ENOMEM);
  CU_ASSERT_PTR_NULL(r);
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, NULL), 0);
  CU_ASSERT_EQUAL(df_call_from_thread(r, NULL, NULL), DF_EINVAL);
  CU_ASSERT_PTR_NULL(df_async_new(r, NULL, NULL));
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

static void test_c1_system_clock_is_monotonic(void) {
  dft_begin();
  df_reactor *r = reactor_new(false);
  double a = df_reactor_now(r);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  double b = df_reactor_now(r);
  CU_ASSERT_TRUE(a > 0.0);
  CU_ASSERT_TRUE(b >= a);
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
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
