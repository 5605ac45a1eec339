/* The reactor: a round is three phases (io, thread calls, timers), each run
 * on a snapshot so that work added by callbacks waits for the next round.
 * Timers live in a min-heap ordered by (deadline, sequence); fd watches in an
 * epoll set; wake-ups from other threads come through the self-pipe of
 * wakeup.c. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "backend.h"
#include "heap-inl.h"
#include "trace.h"

#define DF__NS_PER_S 1000000000.0
#define DF__NS_PER_MS UINT64_C(1000000)
/* Events taken per io phase; more ready fds wait for the next round. */
#define DF__IO_BATCH 128
/* Due-timer batches one df_reactor_advance() runs at most. */
#define DF__ADVANCE_BATCHES 10000

enum { TIMER_IDLE, TIMER_ARMED, TIMER_READY };

struct df_timer {
  struct df__heap_node heap; /* TIMER_ARMED: in reactor.timers */
  df__queue ready;           /* TIMER_READY: in the round's snapshot */
  uint64_t deadline;         /* ns on the reactor's clock */
  uint64_t seq;              /* scheduling order among equal deadlines */
  df_reactor *reactor;
  df_timer_fn fn;
  void *arg;
  unsigned char state;
  bool running;   /* inside its own function */
  bool cancelled; /* cancelled inside its own function */
};

struct df_watch {
  df_reactor *reactor;
  int fd;
  unsigned events; /* interest; 0: paused, not in the epoll set */
  df_watch_fn fn;
  void *arg;
  bool stopped;     /* set by df_watch_stop() during the io phase */
  df__queue graves; /* stopped during the io phase, freed after it */
};

struct df_reactor {
  df__wakeup wakeup;
  int poll_fd;
  int timer_fd;
  bool manual_clock;
  bool in_round; /* a round or an advance is running callbacks */
  bool in_io;    /* the io phase is walking its batch of events */
  bool woken;    /* the io phase saw the self-pipe readable */
  uint64_t now;  /* ns, read once per phase (or moved by advance) */
  uint64_t next_seq;
  uint64_t timer_fd_deadline; /* what timer_fd is armed for; 0: nothing */
  struct df__heap timers;
  size_t live_timers;
  size_t live_watches;
  df__queue graves;
  atomic_bool stop_requested;
  _Atomic(const void *) owner; /* the reactor thread's tag */
  struct df_watch wake_watch;  /* internal: never counted as live */
  struct df_watch timer_watch; /* internal: never counted as live */
  df__trace_hook trace;        /* deferred/trace.h; trace.c */
};

/* Each thread's address of this variable identifies it (C11, no pthread_t
 * comparisons needed). */
static _Thread_local char thread_tag;

/* ---------------------------------------------------------------- time */

static uint64_t add_clamped(uint64_t a, uint64_t b) {
  return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Seconds to ns; far-away delays clamp to the largest deadline. */
static uint64_t seconds_to_ns(double seconds) {
  if (seconds >= (double)UINT64_MAX / DF__NS_PER_S)
    return UINT64_MAX;
  return (uint64_t)(seconds * DF__NS_PER_S + 0.5);
}

static bool valid_delay(double seconds) {
  return !isnan(seconds) && seconds >= 0.0;
}

static void update_time(df_reactor *r) {
  if (!r->manual_clock)
    r->now = df__clock_now_ns();
}

static void claim_thread(df_reactor *r) {
  if (atomic_load_explicit(&r->owner, memory_order_relaxed) != &thread_tag)
    atomic_store_explicit(&r->owner, &thread_tag, memory_order_relaxed);
}

/* ---------------------------------------------------------------- timers */

static int timer_less(const struct df__heap_node *a,
                      const struct df__heap_node *b) {
  const df_timer *ta = DF__QUEUE_DATA(a, df_timer, heap);
  const df_timer *tb = DF__QUEUE_DATA(b, df_timer, heap);
  if (ta->deadline != tb->deadline)
    return ta->deadline < tb->deadline;
  return ta->seq < tb->seq;
}

static df_timer *first_timer(const df_reactor *r) {
  struct df__heap_node *n = df__heap_min(&r->timers);
  return n == NULL ? NULL : DF__QUEUE_DATA(n, df_timer, heap);
}

/* Keeps the timer fd armed no later than the earliest deadline, so the
 * reactor fd turns readable in time. An fd armed earlier than needed only
 * costs one empty round, which is cheaper than re-arming on every cancel. */
static void sync_timer_fd(df_reactor *r) {
  df_timer *t = first_timer(r);
  if (r->manual_clock || t == NULL)
    return;
  if (r->timer_fd_deadline != 0 && r->timer_fd_deadline <= t->deadline)
    return;
  if (df__timerfd_arm(r->timer_fd, t->deadline == 0 ? 1 : t->deadline) == 0)
    r->timer_fd_deadline = t->deadline == 0 ? 1 : t->deadline;
}

/* Takes \p t out of the heap or the round's snapshot. */
static void timer_unlink(df_timer *t) {
  if (t->state == TIMER_ARMED)
    df__heap_remove(&t->reactor->timers, &t->heap, timer_less);
  else if (t->state == TIMER_READY)
    df__queue_remove(&t->ready);
  t->state = TIMER_IDLE;
}

static void timer_arm(df_timer *t, double seconds) {
  df_reactor *r = t->reactor;
  if (!r->in_round)
    update_time(r); /* a deadline computed from a stale clock comes early */
  t->deadline = add_clamped(r->now, seconds_to_ns(seconds));
  t->seq = r->next_seq++;
  t->state = TIMER_ARMED;
  df__heap_insert(&r->timers, &t->heap, timer_less);
  if (!r->in_round)
    sync_timer_fd(r); /* a round syncs when it ends */
}

static void timer_destroy(df_timer *t) {
  t->reactor->live_timers--;
  df__free(t);
}

int df_call_later(df_timer **out, df_reactor *r, double seconds, df_timer_fn fn,
                  void *arg) {
  df_timer *t;
  if (out != NULL)
    *out = NULL;
  if (r == NULL || fn == NULL || !valid_delay(seconds))
    return DF_EINVAL;
  t = df__calloc(1, sizeof *t);
  if (t == NULL)
    return DF_ENOMEM;
  t->reactor = r;
  t->fn = fn;
  t->arg = arg;
  df__queue_init(&t->ready);
  r->live_timers++;
  timer_arm(t, seconds);
  if (out != NULL)
    *out = t;
  return 0;
}

void df_timer_cancel(df_timer *t) {
  if (t == NULL)
    return;
  timer_unlink(t);
  if (t->running)
    t->cancelled = true; /* run_timer() frees it when its function returns */
  else
    timer_destroy(t);
}

int df_timer_reset(df_timer *t, double seconds) {
  if (t == NULL || t->cancelled || !valid_delay(seconds))
    return DF_EINVAL;
  timer_unlink(t);
  timer_arm(t, seconds);
  return 0;
}

static void run_timer(df_timer *t) {
  t->running = true;
  t->fn(t->arg);
  t->running = false;
  if (t->state == TIMER_ARMED && !t->cancelled)
    return; /* reset inside its function: it runs again */
  timer_destroy(t);
}

static bool timer_due(const df_reactor *r) {
  const df_timer *t = first_timer(r);
  return t != NULL && t->deadline <= r->now;
}

/* Timers phase: snapshot every due timer, in (deadline, sequence) order,
 * then run them. Timers scheduled meanwhile are in the heap, not in the
 * snapshot, so they wait for the next round even when already due. */
static size_t run_timers(df_reactor *r) {
  size_t n = 0;
  df__queue ready;
  df__queue_init(&ready);
  while (timer_due(r)) {
    df_timer *t = first_timer(r);
    df__heap_pop(&r->timers, timer_less);
    t->state = TIMER_READY;
    df__queue_insert_tail(&ready, &t->ready);
  }
  while (!df__queue_empty(&ready)) {
    df_timer *t = DF__QUEUE_DATA(df__queue_head(&ready), df_timer, ready);
    df__queue_remove(&t->ready);
    t->state = TIMER_IDLE;
    run_timer(t);
    n++;
  }
  return n;
}

/* ---------------------------------------------------------------- watches */

static void watch_init(df_watch *w, df_reactor *r, int fd, unsigned events,
                       df_watch_fn fn, void *arg) {
  w->reactor = r;
  w->fd = fd;
  w->events = events;
  w->fn = fn;
  w->arg = arg;
  w->stopped = false;
  df__queue_init(&w->graves);
}

int df_watch_fd(df_watch **out, df_reactor *r, int fd, unsigned events,
                df_watch_fn fn, void *arg) {
  df_watch *w;
  int rc;
  if (out == NULL)
    return DF_EINVAL;
  *out = NULL;
  if (r == NULL || fn == NULL || fd < 0 ||
      (events & ~(unsigned)(DF_READABLE | DF_WRITABLE)) != 0)
    return DF_EINVAL;
  w = df__malloc(sizeof *w);
  if (w == NULL)
    return DF_ENOMEM;
  watch_init(w, r, fd, events, fn, arg);
  if (events != 0) {
    rc = df__poller_add(r->poll_fd, fd, events, w);
    if (rc < 0) {
      df__free(w);
      return rc;
    }
  }
  r->live_watches++;
  *out = w;
  return 0;
}

int df_watch_update(df_watch *w, unsigned events) {
  int rc = 0;
  df_reactor *r;
  if (w == NULL || w->stopped ||
      (events & ~(unsigned)(DF_READABLE | DF_WRITABLE)) != 0)
    return DF_EINVAL;
  r = w->reactor;
  /* A paused watch leaves the epoll set: epoll reports hang-ups even with no
   * interest, and a level-triggered hang-up nobody reads would spin. */
  if (events == w->events)
    return 0;
  if (events == 0)
    df__poller_remove(r->poll_fd, w->fd);
  else if (w->events == 0)
    rc = df__poller_add(r->poll_fd, w->fd, events, w);
  else
    rc = df__poller_modify(r->poll_fd, w->fd, events, w);
  if (rc == 0)
    w->events = events;
  return rc;
}

void df_watch_stop(df_watch *w) {
  df_reactor *r;
  if (w == NULL)
    return;
  r = w->reactor;
  if (w->events != 0)
    df__poller_remove(r->poll_fd, w->fd);
  w->events = 0;
  r->live_watches--;
  if (r->in_io) {
    /* The io phase's batch may still name this watch: free it after. */
    w->stopped = true;
    df__queue_insert_tail(&r->graves, &w->graves);
    return;
  }
  df__free(w);
}

static void bury_watches(df_reactor *r) {
  while (!df__queue_empty(&r->graves)) {
    df__queue *q = df__queue_head(&r->graves);
    df__queue_remove(q);
    df__free(DF__QUEUE_DATA(q, df_watch, graves));
  }
}

/* Internal watches: they only note what the phases after io must do. */
static void on_wakeup_readable(df_watch *w, int fd, unsigned events,
                               void *arg) {
  (void)w, (void)fd, (void)events;
  ((df_reactor *)arg)->woken = true;
}

static void on_timer_fd_readable(df_watch *w, int fd, unsigned events,
                                 void *arg) {
  df_reactor *r = arg;
  (void)w, (void)events;
  df__timerfd_drain(fd);
  r->timer_fd_deadline = 0; /* one-shot: it is disarmed now */
}

/* ---------------------------------------------------------------- rounds */

/* How long the io phase may wait: not at all when a stop is requested or a
 * timer is due; never past the earliest deadline on the system clock. */
static int io_timeout(df_reactor *r, int timeout_ms) {
  df_timer *t;
  uint64_t ms;
  if (atomic_load_explicit(&r->stop_requested, memory_order_relaxed))
    return 0;
  t = first_timer(r);
  if (t == NULL)
    return timeout_ms;
  if (t->deadline <= r->now)
    return 0;
  if (r->manual_clock)
    return timeout_ms;
  /* Round up: waking a little early would only spin. */
  ms = (t->deadline - r->now + DF__NS_PER_MS - 1) / DF__NS_PER_MS;
  if (ms > INT_MAX)
    ms = INT_MAX;
  if (timeout_ms < 0 || (int)ms < timeout_ms)
    return (int)ms;
  return timeout_ms;
}

/* io phase: one wait, then the watches of that batch. A traced round
 * starts when the wait ends: \p *woke receives that time. */
static int run_io(df_reactor *r, int timeout_ms, bool traced, uint64_t *woke) {
  df__poll_event events[DF__IO_BATCH];
  int n = df__poller_wait(r->poll_fd, events, DF__IO_BATCH,
                          io_timeout(r, timeout_ms));
  if (n < 0)
    return n;
  update_time(r);
  if (traced)
    *woke = df__trace_clock();
  r->in_io = true;
  for (int i = 0; i < n; i++) {
    df_watch *w = events[i].data;
    unsigned ready;
    if (w->stopped || w->events == 0)
      continue; /* stopped or paused earlier in this batch */
    ready = events[i].events & (w->events | DF_HANGUP | DF_IO_ERROR);
    if (ready != 0)
      w->fn(w, w->fd, ready, w->arg);
  }
  r->in_io = false;
  bury_watches(r);
  if (traced && n > 0)
    df__trace_span(&r->trace, DF__TRACE_IO, *woke, 0, (uint64_t)n);
  return 0;
}

/* Thread calls phase: only when the self-pipe said so. */
static void run_thread_calls(df_reactor *r, bool traced) {
  if (!r->woken)
    return;
  uint64_t start = traced ? df__trace_clock() : 0;
  r->woken = false;
  df__wakeup_dispatch(&r->wakeup);
  if (traced)
    df__trace_span(&r->trace, DF__TRACE_CALLS, start, 0, 0);
}

static void run_timers_phase(df_reactor *r, bool traced) {
  uint64_t start = traced ? df__trace_clock() : 0;
  size_t ran = run_timers(r);
  if (traced && ran > 0)
    df__trace_span(&r->trace, DF__TRACE_TIMERS, start, 0, ran);
}

int df_reactor_run_once(df_reactor *r, int timeout_ms) {
  int rc;
  if (r == NULL)
    return DF_EINVAL;
  if (r->in_round)
    return DF_EBUSY;
  claim_thread(r);
  /* Decided once per round: a trace started by a callback begins with the
   * next one. */
  bool traced = df__trace_on(&r->trace);
  uint64_t waited_from = traced ? df__trace_clock() : 0;
  uint64_t woke = waited_from;
  r->in_round = true;
  update_time(r);
  rc = run_io(r, timeout_ms, traced, &woke);
  run_thread_calls(r, traced);
  update_time(r);
  run_timers_phase(r, traced);
  r->in_round = false;
  sync_timer_fd(r);
  if (traced)
    df__trace_span(&r->trace, DF__TRACE_ROUND, woke, 0, woke - waited_from);
  if (rc < 0)
    return rc;
  /* acquire: a df_reactor_free() after this return waits for the stopping
   * thread, whose count it must see (df__wakeup_poke()). */
  return atomic_exchange_explicit(&r->stop_requested, false,
                                  memory_order_acquire)
             ? 1
             : 0;
}

int df_reactor_run(df_reactor *r) {
  if (r == NULL)
    return DF_EINVAL;
  for (;;) {
    int rc = df_reactor_run_once(r, -1);
    if (rc != 0)
      return rc == 1 ? 0 : rc;
  }
}

void df_reactor_stop(df_reactor *r) {
  if (r == NULL)
    return;
  df__wakeup_poke(&r->wakeup, &r->stop_requested);
}

int df_reactor_advance(df_reactor *r, double seconds) {
  int batches = 0;
  if (r == NULL || !r->manual_clock || !valid_delay(seconds))
    return DF_EINVAL;
  if (r->in_round)
    return DF_EBUSY;
  claim_thread(r);
  r->now = add_clamped(r->now, seconds_to_ns(seconds));
  r->in_round = true;
  while (timer_due(r) && batches++ < DF__ADVANCE_BATCHES)
    run_timers(r);
  r->in_round = false;
  return timer_due(r) ? DF_EAGAIN : 0;
}

/* ---------------------------------------------------------------- life */

df__wakeup *df__reactor_wakeup(df_reactor *r) { return &r->wakeup; }

df__trace_hook *df__trace_hook_of(df_reactor *r) { return &r->trace; }

static void close_fds(df_reactor *r) {
  if (r->timer_fd >= 0)
    (void)close(r->timer_fd);
  if (r->poll_fd >= 0)
    (void)close(r->poll_fd);
}

static int open_fds(df_reactor *r) {
  int rc = df__poller_open();
  if (rc < 0)
    return rc;
  r->poll_fd = rc;
  rc = df__timerfd_open();
  if (rc < 0)
    return rc;
  r->timer_fd = rc;
  watch_init(&r->timer_watch, r, r->timer_fd, DF_READABLE, on_timer_fd_readable,
             r);
  rc = df__poller_add(r->poll_fd, r->timer_fd, DF_READABLE, &r->timer_watch);
  if (rc < 0)
    return rc;
  rc = df__wakeup_init(&r->wakeup);
  if (rc < 0)
    return rc;
  watch_init(&r->wake_watch, r, df__wakeup_fd(&r->wakeup), DF_READABLE,
             on_wakeup_readable, r);
  rc =
      df__poller_add(r->poll_fd, r->wake_watch.fd, DF_READABLE, &r->wake_watch);
  if (rc < 0)
    df__wakeup_close(&r->wakeup);
  return rc;
}

int df_reactor_new(df_reactor **out, const df_reactor_options *opts) {
  df_reactor *r;
  int rc;
  if (out == NULL)
    return DF_EINVAL;
  *out = NULL;
  r = df__calloc(1, sizeof *r);
  if (r == NULL)
    return DF_ENOMEM;
  r->poll_fd = -1;
  r->timer_fd = -1;
  r->manual_clock = opts != NULL && opts->manual_clock;
  df__heap_init(&r->timers);
  df__queue_init(&r->graves);
  atomic_init(&r->trace.trace, NULL);
  atomic_init(&r->trace.writers, 0);
  atomic_init(&r->stop_requested, false);
  atomic_init(&r->owner, &thread_tag);
  rc = open_fds(r);
  if (rc < 0) {
    close_fds(r);
    df__free(r);
    return rc;
  }
  update_time(r);
  df__trace_from_environment(r);
  *out = r;
  return 0;
}

int df_reactor_free(df_reactor *r) {
  if (r == NULL)
    return 0;
  if (r->in_round || r->live_timers != 0 || r->live_watches != 0 ||
      df__wakeup_busy(&r->wakeup))
    return DF_EBUSY;
  df__trace_at_free(r);
  df__wakeup_close(&r->wakeup);
  close_fds(r);
  df__free(r);
  return 0;
}

/* ---------------------------------------------------------------- queries */

int df_reactor_fd(const df_reactor *r) {
  return r == NULL ? DF_EINVAL : r->poll_fd;
}

double df_reactor_now(const df_reactor *r) {
  if (r == NULL)
    return 0.0;
  if (!r->manual_clock && !r->in_round)
    return (double)df__clock_now_ns() / DF__NS_PER_S;
  return (double)r->now / DF__NS_PER_S;
}

bool df_reactor_in_thread(const df_reactor *r) {
  return r != NULL &&
         atomic_load_explicit(&r->owner, memory_order_relaxed) == &thread_tag;
}
