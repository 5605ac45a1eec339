/* Embedding the reactor in a libuv loop.
 *
 * A uv_poll_t watches df_reactor_fd(), which is readable whenever a round of
 * the reactor has work; its callback runs one round with
 * df_reactor_run_once(r, 0). The reactor's timers need no uv_timer_t: the
 * reactor fd turns readable when one falls due.
 *
 * Here libuv ticks its own timer, a uv thread hands the reactor three calls
 * with df_call_from_thread(), and a df_sleep() Deferred waits 50 ms. When
 * the sleep has fired and the calls have run, the reactor stops; the poll
 * callback sees df_reactor_run_once() return 1, closes its handles, and
 * uv_run() returns because nothing is left.
 */
#define _GNU_SOURCE /* uv.h needs the POSIX types (pthread_rwlock_t) */
#include <deferred.h>
#include <stdio.h>
#include <uv.h>

#define CALLS 3

typedef struct app {
  df_reactor *reactor;
  uv_poll_t reactor_poll;
  uv_timer_t libuv_ticker;
  int libuv_ticks;
  int calls;
  bool slept;
  bool reactor_done;
} app;

static void maybe_stop(app *a) {
  if (a->slept && a->calls == CALLS)
    df_reactor_stop(a->reactor);
}

static df_result on_slept(df_result in, void *arg) {
  app *a = arg;
  a->slept = true;
  maybe_stop(a);
  return in;
}

static void thread_call(void *arg) {
  app *a = arg;
  a->calls++;
  maybe_stop(a);
}

static void uv_worker(void *arg) {
  app *a = arg;
  for (int i = 0; i < CALLS; i++)
    df_call_from_thread(a->reactor, thread_call, a);
}

static void on_libuv_tick(uv_timer_t *t) {
  app *a = t->data;
  a->libuv_ticks++;
}

static void on_reactor_readable(uv_poll_t *h, int status, int events) {
  app *a = h->data;
  (void)events;
  if (status < 0) {
    fprintf(stderr, "uv_poll: %s\n", uv_strerror(status));
    return;
  }
  int rc = df_reactor_run_once(a->reactor, 0);
  if (rc == 0)
    return;
  if (rc < 0)
    fprintf(stderr, "df_reactor_run_once: %s\n", df_strerror(rc));
  a->reactor_done = rc == 1;
  /* The reactor is done: close our handles so that uv_run() returns. */
  uv_close((uv_handle_t *)&a->reactor_poll, NULL);
  uv_close((uv_handle_t *)&a->libuv_ticker, NULL);
}

int main(void) {
  app a = {0};
  uv_loop_t *loop = uv_default_loop();
  uv_thread_t th;

  int rc = df_reactor_new(&a.reactor, NULL);
  if (rc != 0) {
    fprintf(stderr, "df_reactor_new: %s\n", df_strerror(rc));
    return 1;
  }
  df_deferred *sleep = df_sleep(a.reactor, 0.05);
  df_add_callback(sleep, on_slept, &a);
  df_unref(sleep); /* its timer keeps it alive */

  uv_poll_init(loop, &a.reactor_poll, df_reactor_fd(a.reactor));
  a.reactor_poll.data = &a;
  uv_poll_start(&a.reactor_poll, UV_READABLE, on_reactor_readable);
  uv_timer_init(loop, &a.libuv_ticker);
  a.libuv_ticker.data = &a;
  uv_timer_start(&a.libuv_ticker, on_libuv_tick, 10, 10);
  if (uv_thread_create(&th, uv_worker, &a) != 0) {
    fprintf(stderr, "uv_thread_create failed\n");
    return 1;
  }

  uv_run(loop, UV_RUN_DEFAULT);
  uv_thread_join(&th);
  printf("slept, then %d libuv ticks, %d calls; both loops done\n",
         a.libuv_ticks, a.calls);
  if (uv_loop_close(loop) != 0 || df_reactor_free(a.reactor) != 0) {
    fprintf(stderr, "a loop still had work\n");
    return 1;
  }
  return a.reactor_done && a.slept && a.calls == CALLS ? 0 : 1;
}
