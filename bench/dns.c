/* `deferred-bench dns`: lookups per second through df_resolve() (c-ares on
 * the reactor) against a dnsmasq on loopback that this command starts, with
 * 1, 16 and 64 lookups kept in flight; in the same run, glibc getaddrinfo()
 * on the thread pool (how C services usually resolve without blocking their
 * loop) against the same server, and the ratio; then TCP connects per
 * second through df_connect_tcp() to a loopback listener.
 *
 *   deferred-bench dns [--lookups N] [--connects N] [--samples S]
 *                      [--family inet|unspec] [--threads T]
 *
 * getaddrinfo is pointed at the test server per worker thread, without
 * touching /etc/resolv.conf: each worker calls res_init() once and then
 * rewrites its thread-local _res to name 127.0.0.1:PORT alone. glibc still
 * reads /etc/hosts on every call; that is part of its cost. */
#define _GNU_SOURCE /* _res, accept4 */

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <deferred.h>

#include "../tests/support/dft_dnsmasq.h"
#include "bench.h"

#define BENCH "dns"
#define MAX_SAMPLES 15
#define BUDGET_IN_FLIGHT 16
#define BUDGET_RATIO 2.0

static const int in_flight_levels[] = {1, 16, 64};
#define N_LEVELS (sizeof in_flight_levels / sizeof in_flight_levels[0])

typedef struct dns_config {
  long lookups;
  long connects;
  int samples;
  int family;
  unsigned threads;
} dns_config;

/* ---------------------------------------------------------------- driver */

/* Keeps `in_flight` operations outstanding until `total` completed; each
 * completion starts the next one. Iterative, so an operation that fires at
 * once does not recurse. */
typedef struct driver driver;
struct driver {
  df_reactor *reactor;
  df_deferred *(*start)(driver *dr);
  long total;
  long in_flight;
  long started;
  long completed;
  long failed;
  bool pumping;
  int done;
  /* what the operations need */
  df_resolver *resolver;
  int family;
  unsigned port;
#ifdef DF_BENCH_HAVE_POOL
  df_pool *pool;
#endif
};

static void pump(driver *dr);

static df_result on_done(df_result in, void *arg) {
  driver *dr = arg;
  if (df_result_is_failure(in)) {
    dr->failed++;
  }
  df_result_free(in);
  dr->completed++;
  if (dr->completed == dr->total) {
    dr->done = 1;
  }
  pump(dr);
  return df_ok(NULL, NULL);
}

static void pump(driver *dr) {
  if (dr->pumping) {
    return;
  }
  dr->pumping = true;
  while (dr->started < dr->total &&
         dr->started - dr->completed < dr->in_flight) {
    dr->started++;
    df_deferred *d = dr->start(dr);
    if (d == NULL) {
      dr->failed++;
      dr->completed++;
      dr->done = dr->completed == dr->total;
      continue;
    }
    df_add_both(d, on_done, dr);
    df_unref(d);
  }
  dr->pumping = false;
}

/* Runs \p dr to completion; returns operations per second, or -1. */
static double drive(driver *dr) {
  dr->started = dr->completed = dr->failed = 0;
  dr->done = 0;
  uint64_t t0 = df_bench_now_ns();
  pump(dr);
  while (!dr->done) {
    if (df_reactor_run_once(dr->reactor, -1) < 0) {
      return -1;
    }
  }
  uint64_t t1 = df_bench_now_ns();
  if (dr->failed > 0) {
    fprintf(stderr, "dns: %ld of %ld operations failed\n", dr->failed,
            dr->total);
  }
  return (double)dr->total * 1e9 / (double)(t1 - t0);
}

static double median_of(driver *dr, int samples) {
  double v[MAX_SAMPLES];
  for (int i = 0; i < samples; i++) {
    v[i] = drive(dr);
    if (v[i] < 0) {
      return -1;
    }
  }
  return df_bench_median(v, (size_t)samples);
}

/* ---------------------------------------------------------------- c-ares */

static df_deferred *start_resolve(driver *dr) {
  return df_resolve(dr->resolver, DFT_NAME_BOTH, dr->family);
}

/* ---------------------------------------------------------------- pool */

#ifdef DF_BENCH_HAVE_POOL
/* Written before the pool starts its threads, read by them. */
static int gai_port;
static int gai_family;

/* Once per worker thread: the thread's own resolver state names only the
 * test server. */
static void point_glibc_at_server(void) {
  static _Thread_local bool done;
  if (done) {
    return;
  }
  done = true;
  res_init();
  _res.nscount = 1;
  _res.nsaddr_list[0].sin_family = AF_INET;
  _res.nsaddr_list[0].sin_port = htons((uint16_t)gai_port);
  _res.nsaddr_list[0].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  _res.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
}

static df_result gai_work(void *arg) {
  (void)arg;
  point_glibc_at_server();
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = gai_family;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo *ai = NULL;
  int rc = getaddrinfo(DFT_NAME_BOTH, NULL, &hints, &ai);
  if (rc != 0) {
    return df_fail(
        df_failure_new(&DF_DNS, rc, "getaddrinfo: %s", gai_strerror(rc)));
  }
  freeaddrinfo(ai);
  return df_ok(NULL, NULL);
}

static df_deferred *start_gai(driver *dr) {
  return df_defer_to_thread(dr->pool, gai_work, NULL);
}
#endif

/* ---------------------------------------------------------------- connect */

typedef struct acceptor {
  int fd;
  df_watch *watch;
} acceptor;

static void on_accept(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  (void)events;
  (void)arg;
  for (;;) {
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
      return;
    }
    close(c);
  }
}

static int acceptor_open(df_reactor *r, acceptor *a, unsigned *port) {
  a->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sin;
  if (a->fd < 0 || bind(a->fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      listen(a->fd, 1024) != 0 ||
      getsockname(a->fd, (struct sockaddr *)&sin, &len) != 0 ||
      df_watch_fd(&a->watch, r, a->fd, DF_READABLE, on_accept, a) != 0) {
    if (a->fd >= 0) {
      close(a->fd);
    }
    return -1;
  }
  *port = ntohs(sin.sin_port);
  return 0;
}

static void acceptor_close(acceptor *a) {
  df_watch_stop(a->watch);
  close(a->fd);
}

/* Closes each connection with a reset, so that thousands of them leave no
 * TIME_WAIT sockets behind to exhaust the ephemeral ports. */
static df_result reset_connection(df_result in, void *arg) {
  (void)arg;
  if (!df_result_is_failure(in)) {
    int fd = df_connection_detach(in.ptr);
    struct linger reset = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
  }
  return in;
}

static df_deferred *start_connect(driver *dr) {
  df_deferred *d =
      df_connect_tcp(dr->reactor, dr->resolver, "127.0.0.1", dr->port, NULL);
  df_add_both(d, reset_connection, NULL);
  return d;
}

/* ---------------------------------------------------------------- command */

static int parse(int argc, char **argv, const df_bench_opts *o, dns_config *c) {
  c->lookups = o->quick ? 2000 : 20000;
  c->connects = o->quick ? 500 : 5000;
  c->samples = o->quick ? 1 : 5;
  c->family = AF_INET;
  c->threads = 4;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(argv[i], "--lookups") == 0 && v != NULL) {
      c->lookups = atol(v);
    } else if (strcmp(argv[i], "--connects") == 0 && v != NULL) {
      c->connects = atol(v);
    } else if (strcmp(argv[i], "--samples") == 0 && v != NULL) {
      c->samples = atoi(v);
    } else if (strcmp(argv[i], "--threads") == 0 && v != NULL) {
      c->threads = (unsigned)atoi(v);
    } else if (strcmp(argv[i], "--family") == 0 && v != NULL &&
               (strcmp(v, "inet") == 0 || strcmp(v, "unspec") == 0)) {
      c->family = strcmp(v, "inet") == 0 ? AF_INET : AF_UNSPEC;
    } else {
      fprintf(stderr,
              "usage: %s [--lookups N] [--connects N] [--samples S] "
              "[--family inet|unspec] [--threads T]\n",
              argv[0]);
      return -1;
    }
    i++;
  }
  if (c->lookups < 1 || c->connects < 1 || c->samples < 1 ||
      c->samples > MAX_SAMPLES || c->threads < 1) {
    fprintf(stderr, "%s: counts must be positive, at most %d samples\n",
            argv[0], MAX_SAMPLES);
    return -1;
  }
  return 0;
}

typedef struct dns_row {
  int in_flight;
  double cares;
  double gai; /* < 0: not measured */
} dns_row;

static void record_row(const df_bench_opts *o, const dns_row *row) {
  char name[64];
  snprintf(name, sizeof name, "cares_lookups_per_s_in_flight_%d",
           row->in_flight);
  df_bench_json_metric(o->json, BENCH, name, row->cares, "1/s");
  if (row->gai >= 0) {
    snprintf(name, sizeof name, "getaddrinfo_pool_lookups_per_s_in_flight_%d",
             row->in_flight);
    df_bench_json_metric(o->json, BENCH, name, row->gai, "1/s");
    snprintf(name, sizeof name, "ratio_in_flight_%d", row->in_flight);
    df_bench_json_metric(o->json, BENCH, name, row->cares / row->gai, "x");
  }
}

/* c-ares and getaddrinfo samples alternate, so that a burst of load from
 * elsewhere on the machine hits both sides of the ratio alike. */
static int measure_level(const dns_config *c, driver *dr, dns_row *row) {
  double cares[MAX_SAMPLES];
  double gai[MAX_SAMPLES];
  int n_gai = 0;
  for (int s = 0; s < c->samples; s++) {
    dr->start = start_resolve;
    cares[s] = drive(dr);
    if (cares[s] < 0) {
      return -1;
    }
#ifdef DF_BENCH_HAVE_POOL
    dr->start = start_gai;
    gai[n_gai] = drive(dr);
    if (gai[n_gai++] < 0) {
      return -1;
    }
#endif
  }
  row->cares = df_bench_median(cares, (size_t)c->samples);
  row->gai = n_gai > 0 ? df_bench_median(gai, (size_t)n_gai) : -1;
  return 0;
}

static int measure_lookups(const dns_config *c, df_reactor *r,
                           const dft_dnsmasq *server, dns_row rows[N_LEVELS]) {
  for (size_t i = 0; i < N_LEVELS; i++) {
    driver dr;
    memset(&dr, 0, sizeof dr);
    dr.reactor = r;
    dr.total = c->lookups;
    dr.in_flight = in_flight_levels[i];
    dr.family = c->family;
    rows[i].in_flight = in_flight_levels[i];
    df_resolver_options ro = {0};
    ro.servers = server->servers;
    ro.timeout_ms = 2000;
    ro.tries = 2;
    ro.max_in_flight = in_flight_levels[i];
    if (df_resolver_new(&dr.resolver, r, &ro) != 0) {
      return -1;
    }
#ifdef DF_BENCH_HAVE_POOL
    df_pool_options po = {0};
    po.threads = c->threads;
    if (df_pool_new(&dr.pool, r, &po) != 0) {
      df_resolver_free(dr.resolver);
      return -1;
    }
#endif
    int rc = measure_level(c, &dr, &rows[i]);
#ifdef DF_BENCH_HAVE_POOL
    df_pool_free(dr.pool);
#endif
    df_resolver_free(dr.resolver);
    if (rc != 0) {
      return -1;
    }
  }
  return 0;
}

static double measure_connects(const dns_config *c, df_reactor *r,
                               const dft_dnsmasq *server) {
  acceptor acc;
  driver dr;
  memset(&dr, 0, sizeof dr);
  if (acceptor_open(r, &acc, &dr.port) != 0) {
    return -1;
  }
  df_resolver_options ro = {0};
  ro.servers = server->servers;
  if (df_resolver_new(&dr.resolver, r, &ro) != 0) {
    acceptor_close(&acc);
    return -1;
  }
  dr.reactor = r;
  dr.total = c->connects;
  dr.in_flight = BUDGET_IN_FLIGHT;
  dr.start = start_connect;
  double rate = median_of(&dr, c->samples);
  df_resolver_free(dr.resolver);
  acceptor_close(&acc);
  return rate;
}

static void print_table(const dns_config *c, const dns_row rows[N_LEVELS],
                        double connects) {
  printf("lookups of %s (%s), %ld per run, median of %d runs; getaddrinfo on "
         "a pool of %u threads\n",
         DFT_NAME_BOTH, c->family == AF_INET ? "AF_INET" : "AF_UNSPEC",
         c->lookups, c->samples, c->threads);
  printf("%-10s %18s %22s %8s\n", "in flight", "c-ares lookups/s",
         "getaddrinfo+pool /s", "ratio");
  for (size_t i = 0; i < N_LEVELS; i++) {
    if (rows[i].gai >= 0) {
      printf("%-10d %18.0f %22.0f %7.2fx\n", rows[i].in_flight, rows[i].cares,
             rows[i].gai, rows[i].cares / rows[i].gai);
    } else {
      printf("%-10d %18.0f %22s %8s\n", rows[i].in_flight, rows[i].cares,
             "n/a (no pool)", "-");
    }
  }
  printf("\nTCP connects to 127.0.0.1 through df_connect_tcp, %d in flight, "
         "%ld per run: %.0f/s\n\n",
         BUDGET_IN_FLIGHT, c->connects, connects);
}

int df_bench_dns(int argc, char **argv, const df_bench_opts *o) {
  dns_config c;
  if (parse(argc, argv, o, &c) != 0) {
    return 1;
  }
  dft_dnsmasq server;
  if (dft_dnsmasq_start(&server) != 0) {
    fprintf(stderr, "dns: no dnsmasq, nothing measured\n");
    return 1;
  }
#ifdef DF_BENCH_HAVE_POOL
  gai_port = server.port;
  gai_family = c.family;
#endif
  df_reactor *r = NULL;
  dns_row rows[N_LEVELS];
  double connects = -1;
  int rc = df_reactor_new(&r, NULL);
  if (rc == 0) {
    rc = measure_lookups(&c, r, &server, rows);
  }
  if (rc == 0) {
    connects = measure_connects(&c, r, &server);
    rc = connects < 0 ? -1 : 0;
  }
  dft_dnsmasq_stop(&server);
  if (rc != 0) {
    fprintf(stderr, "dns: measurement failed\n");
    df_reactor_free(r);
    return 1;
  }
  df_reactor_run_once(r, 0);
  df_reactor_free(r);

  print_table(&c, rows, connects);
  for (size_t i = 0; i < N_LEVELS; i++) {
    record_row(o, &rows[i]);
  }
  df_bench_json_metric(o->json, BENCH, "connects_per_s", connects, "1/s");

  size_t at = 1; /* the row of BUDGET_IN_FLIGHT */
  df_bench_budget budget = {
      "c-ares vs getaddrinfo on the pool, 16 in flight (ratio)",
      rows[at].gai > 0 ? rows[at].cares / rows[at].gai : -1, BUDGET_RATIO, true,
      "x"};
  df_bench_print_budgets(o, BENCH, &budget, 1);
  return 0;
}
