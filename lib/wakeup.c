/* Waking the reactor from other threads: a self-pipe shared by coalescing
 * df_async handles, one of which runs the df_call_from_thread() queue.
 *
 * The protocol that loses no wake-up (libuv's unix/async.c):
 * - a producer publishes its work first (queue push, or its own lock), then
 *   sets the handle's pending flag, and writes one byte only when it moved
 *   the flag from 0 to 1; when the flag is already set, its work will be
 *   seen by the dispatch that clears the flag, so it does nothing at all;
 * - the reactor reads the pipe empty, then clears each flag, then takes the
 *   work. Work published after the clear belongs to a producer that saw the
 *   flag at 0 and wrote a new byte, so the next round sees it.
 * Both "publish, then check" and "clear, then take" are a store followed by
 * a load of another variable, so each side has a sequentially consistent
 * fence between the two (signal_async(), df__wakeup_dispatch()).
 * A write that fails with EAGAIN is fine: a full pipe is a pending wake-up.
 *
 * Lifetime: a producer is counted as a sender of its handle while it may
 * still touch it (the bits above the flag), and the handle, or the reactor
 * for the internal one, is freed only once no sender is left. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#include "backend.h"

struct df__call {
  df__call *next;
  df_call_fn fn;
  void *arg;
};

/* The pipe holds at most one byte per pending handle, so a few reads empty
 * it; the bound only guards against a misbehaving writer. */
#define DF__DRAIN_READS 128
/* Spins between yields while waiting for senders to leave a handle. */
#define DF__FREE_SPINS 997

static void run_calls(void *arg);

/* Counts the caller as a sender of \p a, in the bits above the flag, for
 * as long as it may still touch the handle or its reactor: a thread-safe
 * entry that publishes work first and signals after can be overtaken by the
 * reactor, which may run that work and then free everything. */
static void sender_enter(struct df_async *a) {
  atomic_fetch_add_explicit(&a->pending, 2u, memory_order_relaxed);
}

static void sender_leave(struct df_async *a) {
  atomic_fetch_sub_explicit(&a->pending, 2u, memory_order_release);
}

/* Waits until no sender touches \p a (see sender_enter()). */
static void wait_for_senders(struct df_async *a) {
  for (;;) {
    int i;
    for (i = 0; i < DF__FREE_SPINS; i++) {
      if ((atomic_load_explicit(&a->pending, memory_order_acquire) >> 1) == 0)
        return;
    }
    sched_yield();
  }
}

static void async_init(struct df_async *a, df__wakeup *w, df_call_fn fn,
                       void *arg) {
  atomic_init(&a->pending, 0u);
  a->wakeup = w;
  a->fn = fn;
  a->arg = arg;
  df__queue_insert_tail(&w->asyncs, &a->node);
}

int df__wakeup_init(df__wakeup *w) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
    return -errno;
  w->read_fd = fds[0];
  w->write_fd = fds[1];
  df__queue_init(&w->asyncs);
  w->user_asyncs = 0;
  atomic_init(&w->calls, NULL);
  async_init(&w->calls_async, w, run_calls, w);
  return 0;
}

void df__wakeup_close(df__wakeup *w) {
  df__queue_remove(&w->calls_async.node);
  (void)close(w->read_fd);
  (void)close(w->write_fd);
  w->read_fd = -1;
  w->write_fd = -1;
}

bool df__wakeup_busy(df__wakeup *w) {
  /* A df_call_from_thread() or df_reactor_stop() whose effect the reactor
   * already saw may still be writing its byte; one that has not queued its
   * call yet will have when it leaves, and makes us busy. */
  wait_for_senders(&w->calls_async);
  return w->user_asyncs != 0 ||
         atomic_load_explicit(&w->calls, memory_order_acquire) != NULL;
}

int df__wakeup_fd(const df__wakeup *w) { return w->read_fd; }

static void write_byte(int fd) {
  static const char byte = 1;
  for (;;) {
    if (write(fd, &byte, 1) == 1 || errno != EINTR)
      return; /* EAGAIN: the pipe is full of wake-ups already */
  }
}

static void drain(int fd) {
  char buf[1024];
  for (int i = 0; i < DF__DRAIN_READS; i++) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == (ssize_t)sizeof buf || (n < 0 && errno == EINTR))
      continue;
    return; /* short read, EAGAIN: empty */
  }
}

/* Sets the pending flag and writes the wake-up byte on its 0 -> 1 move.
 * The fence orders the caller's publication (made before the call) before
 * the flag check, and pairs with the fence in df__wakeup_dispatch(): either
 * this check sees the flag cleared, or the dispatch that cleared it sees the
 * work. Without both fences, a store and a load of different variables may
 * pass each other (store buffering), and the work would wait for an
 * unrelated wake-up. */
static int signal_async(struct df_async *a) {
  unsigned v;
  atomic_thread_fence(memory_order_seq_cst);
  /* The hot path under load: a wake-up is pending, our work rides on it. */
  v = atomic_load_explicit(&a->pending, memory_order_relaxed);
  do {
    if (v & 1u)
      return 0;
    /* Set the flag and count ourselves as a sender mid-write (1 + 2). */
  } while (!atomic_compare_exchange_weak_explicit(
      &a->pending, &v, v + 3u, memory_order_acq_rel, memory_order_relaxed));
  write_byte(a->wakeup->write_fd);
  atomic_fetch_sub_explicit(&a->pending, 2u, memory_order_release);
  return 1;
}

int df_async_send(df_async *a) {
  if (a == NULL)
    return DF_EINVAL;
  return signal_async(a);
}

void df__wakeup_poke(df__wakeup *w, atomic_bool *flag) {
  sender_enter(&w->calls_async);
  atomic_store_explicit(flag, true, memory_order_release);
  (void)signal_async(&w->calls_async);
  sender_leave(&w->calls_async);
}

void df__wakeup_dispatch(df__wakeup *w) {
  df__queue batch;

  drain(w->read_fd);
  /* Snapshot the handles: a function may free any handle, itself included,
   * or make new ones, which wait for the next wake-up. */
  df__queue_move(&w->asyncs, &batch);
  while (!df__queue_empty(&batch)) {
    df__queue *q = df__queue_head(&batch);
    struct df_async *a = DF__QUEUE_DATA(q, struct df_async, node);
    df__queue_remove(q);
    df__queue_insert_tail(&w->asyncs, q);
    if ((atomic_fetch_and_explicit(&a->pending, ~1u, memory_order_acq_rel) &
         1u) == 0)
      continue;
    atomic_thread_fence(memory_order_seq_cst); /* see signal_async() */
    a->fn(a->arg);
  }
}

int df_async_new(df_async **out, df_reactor *r, df_call_fn fn, void *arg) {
  df__wakeup *w;
  struct df_async *a;
  if (out == NULL)
    return DF_EINVAL;
  *out = NULL;
  if (r == NULL || fn == NULL)
    return DF_EINVAL;
  a = df__malloc(sizeof *a);
  if (a == NULL)
    return DF_ENOMEM;
  w = df__reactor_wakeup(r);
  async_init(a, w, fn, arg);
  w->user_asyncs++;
  *out = a;
  return 0;
}

void df_async_free(df_async *a) {
  if (a == NULL)
    return;
  /* A sender that set the flag may not have finished its write yet. */
  wait_for_senders(a);
  df__queue_remove(&a->node);
  a->wakeup->user_asyncs--;
  df__free(a);
}

int df_call_from_thread(df_reactor *r, df_call_fn fn, void *arg) {
  df__wakeup *w;
  df__call *c;
  df__call *head;
  if (r == NULL || fn == NULL)
    return DF_EINVAL;
  c = df__malloc(sizeof *c);
  if (c == NULL)
    return DF_ENOMEM;
  c->fn = fn;
  c->arg = arg;
  w = df__reactor_wakeup(r);
  /* Counted from before the push: once the node is visible the reactor may
   * run it, and df_reactor_free() must wait for us (df__wakeup_busy()). */
  sender_enter(&w->calls_async);
  head = atomic_load_explicit(&w->calls, memory_order_relaxed);
  do {
    c->next = head;
  } while (!atomic_compare_exchange_weak_explicit(
      &w->calls, &head, c, memory_order_release, memory_order_relaxed));
  (void)signal_async(&w->calls_async);
  sender_leave(&w->calls_async);
  return 0;
}

/* The internal handle's function: runs the calls queued before the flag was
 * cleared, oldest first. Calls queued while these run wait for the next
 * round. */
static void run_calls(void *arg) {
  df__wakeup *w = arg;
  df__call *newest =
      atomic_exchange_explicit(&w->calls, NULL, memory_order_acq_rel);
  df__call *oldest = NULL;

  while (newest != NULL) {
    df__call *next = newest->next;
    newest->next = oldest;
    oldest = newest;
    newest = next;
  }
  while (oldest != NULL) {
    df__call *c = oldest;
    df_call_fn fn = c->fn;
    void *fn_arg = c->arg;
    oldest = c->next;
    df__free(c);
    fn(fn_arg);
  }
}
