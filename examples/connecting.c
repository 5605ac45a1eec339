/* The article's startConnecting / cancelClicked, in C.
 *
 *   connecting HOST PORT [--dns SERVERS] [--cancel-after SECONDS]
 *              [--timeout SECONDS]
 *   connecting --demo
 *
 * startConnecting() asks df_connect_tcp() for a connection; cancelClicked(),
 * run by a timer as if a user clicked "Cancel", cancels it. Depending on when
 * the click comes, the cancel lands in the DNS stage (which cannot be
 * interrupted: the attempt fails with Cancelled at once while the lookup
 * runs on), in the connect stage (the sockets are closed), or after the
 * connection was made (nothing happens). The program prints what it saw.
 *
 * --demo plays the three cases on loopback by itself (a DNS server that
 * never answers, a listener whose backlog is full, one that accepts) and
 * exits non-zero when an outcome is not the expected one. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deferred.h"

typedef enum outcome { CONNECTED, CANCELLED, FAILED } outcome;

typedef struct app {
  df_reactor *reactor;
  df_resolver *resolver;
  df_deferred *connecting; /* the attempt: our reference */
  df_timer *click;         /* the pending "Cancel" click, or NULL */
  bool finished;
  outcome result;
} app;

static df_result connected(df_result in, void *arg) {
  app *a = arg;
  df_connection *conn = in.ptr;
  char peer[64];
  df_address_format(&conn->peer, peer, sizeof peer);
  printf("  connected to %s\n", peer);
  df_result_free(in); /* closes the socket */
  a->result = CONNECTED;
  return df_ok(NULL, NULL);
}

static df_result failed(df_result in, void *arg) {
  app *a = arg;
  const df_failure *f = df_result_failure(in);
  bool cancelled = df_failure_check(f, &DF_CANCELLED, NULL) != NULL;
  printf("  %s: %s: %s\n", cancelled ? "cancelled" : "failed",
         df_failure_type(f)->name, df_failure_message(f));
  df_result_free(in);
  a->result = cancelled ? CANCELLED : FAILED;
  return df_ok(NULL, NULL);
}

static df_result done(df_result in, void *arg) {
  app *a = arg;
  a->finished = true;
  df_reactor_stop(a->reactor);
  return in;
}

static void startConnecting(app *a, const char *host, unsigned port,
                            double timeout) {
  df_connect_options opts = {0};
  opts.timeout = timeout;
  a->connecting = df_connect_tcp(a->reactor, a->resolver, host, port, &opts);
  df_add_callbacks(a->connecting, connected, a, failed, a);
  df_add_both(a->connecting, done, a);
}

static void cancelClicked(void *arg) {
  app *a = arg;
  a->click = NULL;
  printf("  cancel clicked\n");
  df_cancel(a->connecting); /* after it fired: nothing happens (S18) */
}

/* One connection attempt, cancelled after \p cancel_after seconds unless
 * that is negative. */
static outcome attempt(df_reactor *r, const char *dns, const char *host,
                       unsigned port, double cancel_after, double timeout) {
  app a;
  memset(&a, 0, sizeof a);
  a.reactor = r;
  a.result = FAILED;
  df_resolver_options ropts = {0};
  ropts.servers = dns;
  ropts.timeout_ms = 2000;
  int rc = df_resolver_new(&a.resolver, r, &ropts);
  if (rc != 0) {
    fprintf(stderr, "resolver: %s\n", df_strerror(rc));
    return FAILED;
  }
  startConnecting(&a, host, port, timeout);
  if (!a.finished && cancel_after >= 0) {
    df_call_later(&a.click, r, cancel_after, cancelClicked, &a);
  }
  if (!a.finished) {
    df_reactor_run(r);
  }
  if (a.click != NULL) {
    /* The user clicks after the attempt ended: nothing changes (S18). */
    df_timer_cancel(a.click);
    cancelClicked(&a);
  }
  df_unref(a.connecting);
  /* Lookups abandoned by a cancel may still be on the wire: freeing the
   * resolver discards them. */
  df_resolver_free(a.resolver);
  df_reactor_run_once(r, 0);
  return a.result;
}

/* ---------------------------------------------------------------- demo */

/* A socket of \p type bound on 127.0.0.1 at a free port. */
static int bound(int type, unsigned *port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
    if (fd >= 0) {
      close(fd);
    }
    return -1;
  }
  *port = ntohs(sin.sin_port);
  return fd;
}

static bool expect(const char *what, outcome got, outcome want) {
  static const char *const names[] = {"connected", "cancelled", "failed"};
  printf("%s: %s (expected %s)\n\n", what, names[got], names[want]);
  return got == want;
}

static int demo(df_reactor *r) {
  unsigned dns_port = 0;
  unsigned full_port = 0;
  unsigned open_port = 0;
  /* A DNS server that never reads: lookups to it hang. */
  int silent = bound(SOCK_DGRAM, &dns_port);
  /* listen(fd, 0) and one client in the queue: the next connect hangs. */
  int full = bound(SOCK_STREAM, &full_port);
  int open = bound(SOCK_STREAM, &open_port);
  int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons((uint16_t)full_port);
  bool ok = silent >= 0 && full >= 0 && open >= 0 && filler >= 0 &&
            listen(full, 0) == 0 && listen(open, 8) == 0 &&
            connect(filler, (struct sockaddr *)&to, sizeof to) == 0;
  if (ok) {
    char dns[32];
    snprintf(dns, sizeof dns, "127.0.0.1:%u", dns_port);
    printf("1. cancel while the name is resolved\n");
    ok &=
        expect("1", attempt(r, dns, "service.example", 80, 0.05, 0), CANCELLED);
    printf("2. cancel while connecting\n");
    ok &= expect("2", attempt(r, dns, "127.0.0.1", full_port, 0.05, 0),
                 CANCELLED);
    printf("3. cancel after the connection was made\n");
    ok &=
        expect("3", attempt(r, dns, "127.0.0.1", open_port, 0.2, 0), CONNECTED);
    printf("4. no cancel, a timeout while connecting\n");
    ok &= expect("4", attempt(r, dns, "127.0.0.1", full_port, -1, 0.1), FAILED);
  } else {
    perror("demo set-up");
  }
  int fds[] = {silent, full, open, filler};
  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
    if (fds[i] >= 0) {
      close(fds[i]);
    }
  }
  return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- main */

static int usage(const char *self) {
  fprintf(stderr,
          "usage: %s HOST PORT [--dns SERVERS] [--cancel-after SECONDS] "
          "[--timeout SECONDS]\n       %s --demo\n",
          self, self);
  return 2;
}

int main(int argc, char **argv) {
  bool run_demo = argc == 2 && strcmp(argv[1], "--demo") == 0;
  if (argc < 3 && !run_demo) {
    return usage(argv[0]);
  }
  const char *dns = NULL;
  double cancel_after = -1;
  double timeout = 0;
  for (int i = 3; !run_demo && i < argc; i += 2) {
    if (i + 1 >= argc) {
      return usage(argv[0]);
    } else if (strcmp(argv[i], "--dns") == 0) {
      dns = argv[i + 1];
    } else if (strcmp(argv[i], "--cancel-after") == 0) {
      cancel_after = atof(argv[i + 1]);
    } else if (strcmp(argv[i], "--timeout") == 0) {
      timeout = atof(argv[i + 1]);
    } else {
      return usage(argv[0]);
    }
  }
  df_reactor *r = NULL;
  int rc = df_reactor_new(&r, NULL);
  if (rc != 0) {
    fprintf(stderr, "%s: %s\n", argv[0], df_strerror(rc));
    return 1;
  }
  int status;
  if (run_demo) {
    status = demo(r);
  } else {
    status = attempt(r, dns, argv[1], (unsigned)atoi(argv[2]), cancel_after,
                     timeout) == CONNECTED
                 ? 0
                 : 1;
  }
  if (df_reactor_free(r) != 0) {
    fprintf(stderr, "%s: the reactor still had work\n", argv[0]);
    status = 1;
  }
  return status;
}
