/* Embedding the reactor in a service that already has a poll() loop.
 *
 * The service polls its own descriptors plus df_reactor_fd(), which is
 * readable whenever a round of the reactor has work (a watched fd, a timer
 * due, a call from another thread, a stop). When it is, the service runs one
 * round with df_reactor_run_once(r, 0), which never blocks; it returns 1 once
 * df_reactor_stop() was called, and the service leaves its loop.
 *
 * Here the reactor ticks a periodic timer, a worker thread hands it three
 * calls with df_call_from_thread(), and the service's own pipe (which the
 * reactor knows nothing about) gets one message from the worker. Once it has
 * five ticks and the three calls, the reactor stops itself.
 */
#define _GNU_SOURCE
#include <deferred.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#define TICKS 5
#define CALLS 3

typedef struct app {
  df_reactor *reactor;
  df_timer *ticker;
  int ticks;
  int calls;
  int service_messages;
  int service_pipe[2];
} app;

static void maybe_stop(app *a) {
  if (a->ticks >= TICKS && a->calls == CALLS)
    df_reactor_stop(a->reactor);
}

static void tick(void *arg) {
  app *a = arg;
  a->ticks++;
  if (a->ticks < TICKS)
    df_timer_reset(a->ticker, 0.01); /* periodic: re-arm from inside */
  else
    a->ticker = NULL; /* not re-armed: the handle ends with this call */
  maybe_stop(a);
}

static void worker_call(void *arg) {
  app *a = arg;
  a->calls++;
  printf("call %d from the worker, on the reactor thread: %s\n", a->calls,
         df_reactor_in_thread(a->reactor) ? "yes" : "no");
  maybe_stop(a);
}

static void *worker(void *arg) {
  app *a = arg;
  for (int i = 0; i < CALLS; i++)
    df_call_from_thread(a->reactor, worker_call, a);
  if (write(a->service_pipe[1], "m", 1) != 1)
    perror("write");
  return NULL;
}

/* The service's own handler: the reactor is not involved. */
static void read_service_pipe(app *a) {
  char buf[16];
  ssize_t n;
  while ((n = read(a->service_pipe[0], buf, sizeof buf)) > 0)
    a->service_messages += (int)n;
}

static int service_loop(app *a) {
  for (;;) {
    struct pollfd fds[2] = {
        {.fd = df_reactor_fd(a->reactor), .events = POLLIN},
        {.fd = a->service_pipe[0], .events = POLLIN},
    };
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      perror("poll");
      return -1;
    }
    if (fds[1].revents & POLLIN)
      read_service_pipe(a);
    if (fds[0].revents & POLLIN) {
      int rc = df_reactor_run_once(a->reactor, 0);
      if (rc == 1)
        return 0; /* df_reactor_stop() was called */
      if (rc < 0) {
        fprintf(stderr, "df_reactor_run_once: %s\n", df_strerror(rc));
        return -1;
      }
    }
  }
}

int main(void) {
  app a = {0};
  pthread_t th;
  int rc = df_reactor_new(&a.reactor, NULL);
  if (rc != 0) {
    fprintf(stderr, "df_reactor_new: %s\n", df_strerror(rc));
    return 1;
  }
  if (pipe2(a.service_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    perror("pipe2");
    return 1;
  }
  df_call_later(&a.ticker, a.reactor, 0.01, tick, &a);
  if (a.ticker == NULL || pthread_create(&th, NULL, worker, &a) != 0) {
    fprintf(stderr, "cannot start\n");
    return 1;
  }
  rc = service_loop(&a);
  pthread_join(th, NULL);
  read_service_pipe(&a); /* the worker may have written after the stop */
  printf("reactor stopped after %d ticks, %d calls, %d service message\n",
         a.ticks, a.calls, a.service_messages);
  close(a.service_pipe[0]);
  close(a.service_pipe[1]);
  if (df_reactor_free(a.reactor) != 0) {
    fprintf(stderr, "the reactor still had work\n");
    return 1;
  }
  return rc == 0 && a.ticks == TICKS && a.calls == CALLS &&
                 a.service_messages == 1
             ? 0
             : 1;
}
