/* Allocation failure at every site, after SQLite's and c-ares' habit: each
 * representative program below is run once to count its allocations, then
 * again with the k-th allocation failing, for every k until a run makes no
 * allocation fail. Each run is a forked child, so runs are independent.
 * A run must:
 *   - end every operation with its normal outcome or the documented error
 *     (a NULL Deferred, a negative code, or a DF_NO_MEMORY failure);
 *   - fire every Deferred it observes exactly once;
 *   - release every value and every step argument exactly once;
 *   - leave no block of the library allocated (the counting allocator),
 *     nothing LeakSanitizer finds, no descriptor of its own open; and not
 *     crash (a signal or a stuck run fails the test).
 * The programs cover the core (chains, waiting, chain, pause, cancel,
 * lists, gather), the reactor (timers, sleep, timeouts, fd watches, calls
 * from a thread), the pool (submit, cancel, close in both modes) and the
 * DNS layer (answered, NXDOMAIN, no-data, silent-server and literal
 * lookups, connect by literal and by name). It prints the allocation sites
 * and runs it covered. Allocations no program reaches are not counted: the
 * numbers grow when a layer starts allocating through df_malloc(). */
#define _POSIX_C_SOURCE 200809L

#include <sys/select.h> /* ares.h uses fd_set */

#include <ares.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <deferred.h>
#include <deferred/alloc.h>
#include <deferred/dns.h>
#include <deferred/list.h>
#include <deferred/pool.h>
#include <deferred/reactor.h>

#include "dft_alloc.h"
#include "dft_dns_servers.h"
#include "dft_dnsmasq.h"
#include "dft_loopback.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAK_CHECK() __lsan_do_recoverable_leak_check()
#else
#define LEAK_CHECK() 0
#endif

/* A child that runs longer than this is stuck. */
#define CHILD_SECONDS 60
/* Wall-time bound of a program's reactor loop. */
#define LOOP_SECONDS 20.0

static int problems; /* in the child: checks that failed */

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__,       \
              #cond);                                                          \
      problems++;                                                              \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------ values */

static atomic_long values_made, values_freed, args_made, args_freed;

static char *value_new(const char *text) {
  char *v = malloc(strlen(text) + 1);
  if (v == NULL)
    abort();
  strcpy(v, text);
  atomic_fetch_add(&values_made, 1);
  return v;
}

static void value_free(void *v) {
  if (v != NULL) {
    atomic_fetch_add(&values_freed, 1);
    free(v);
  }
}

static void *arg_new(void) {
  atomic_fetch_add(&args_made, 1);
  return malloc(1);
}

static void arg_free(void *a) {
  atomic_fetch_add(&args_freed, 1);
  free(a);
}

/* ------------------------------------------------------------ outcomes */

/* How one observed Deferred ended. */
typedef struct end {
  bool null;       /* the operation returned NULL: memory ran out */
  bool unobserved; /* the observing step could not be added */
  int fired;
  bool ok;
  const df_error_type *type;
  int code;
} end;

static df_result record(df_result in, void *arg) {
  end *e = arg;
  e->fired++;
  if (df_result_is_failure(in)) {
    e->type = df_failure_type(df_result_failure(in));
    e->code = df_failure_code(df_result_failure(in));
  } else {
    e->ok = true;
  }
  df_result_free(in);
  return df_ok(NULL, NULL);
}

/* Observes \p d (borrowed) into \p e. */
static void observe(df_deferred *d, end *e) {
  memset(e, 0, sizeof *e);
  if (d == NULL) {
    e->null = true;
  } else if (df_add_both(d, record, e) == NULL) {
    e->unobserved = true;
  }
}

/* Observes and drops the caller's reference. */
static void observe_owned(df_deferred *d, end *e) {
  observe(d, e);
  df_unref(d);
}

static bool ended(const end *e) {
  return e->null || e->unobserved || e->fired > 0;
}

/* \p e fired once with a value, or ran out of memory. */
static void expect_ok(const end *e, const char *what) {
  if (e->null || e->unobserved)
    return;
  if (e->fired != 1 || (!e->ok && e->type != &DF_NO_MEMORY)) {
    fprintf(stderr, "  %s: fired %d, %s %s code %d\n", what, e->fired,
            e->ok ? "value" : "failure", e->type ? e->type->name : "-",
            e->code);
    problems++;
  }
}

/* \p e fired once with a failure of \p type (and \p code, unless -1), or
 * ran out of memory; \p also (may be NULL) is another acceptable type. */
static void expect_failure(const end *e, const char *what,
                           const df_error_type *type, int code,
                           const df_error_type *also) {
  if (e->null || e->unobserved)
    return;
  bool right =
      !e->ok && ((e->type == type && (code == -1 || e->code == code)) ||
                 e->type == &DF_NO_MEMORY || (also != NULL && e->type == also));
  if (e->fired != 1 || !right) {
    fprintf(stderr, "  %s: fired %d, %s %s code %d; wanted %s %d\n", what,
            e->fired, e->ok ? "value" : "failure",
            e->type ? e->type->name : "-", e->code, type->name, code);
    problems++;
  }
}

static double wall(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs \p r until every end of \p ends has ended (bounded). */
static void run_until_ended(df_reactor *r, end *ends, size_t n) {
  double limit = wall() + LOOP_SECONDS;
  for (;;) {
    bool all = true;
    for (size_t i = 0; i < n; i++)
      all = all && ended(&ends[i]);
    if (all || wall() > limit)
      break;
    df_reactor_run_once(r, 10);
  }
}

static void quiet_unhandled(const df_failure *f, const df_debug_info *where,
                            void *arg) {
  (void)f;
  (void)where;
  (void)arg; /* an unobserved Deferred's failure: expected under failure */
}

/* ------------------------------------------------------------ core */

static df_result step_append(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_ok(value_new("appended"), value_free);
}

static df_result step_pass(df_result in, void *arg) {
  (void)arg;
  return in;
}

static df_result step_wait(df_result in, void *other) {
  df_result_free(in);
  return df_wait(other);
}

static df_result step_recover(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_ok(value_new("recovered"), value_free);
}

static df_result step_fail(df_result in, void *arg) {
  (void)arg;
  df_result_free(in);
  return df_fail(df_failure_new(&DF_ERROR, 7, "planned"));
}

static int cancels;

static void count_cancel(df_deferred *d, void *arg) {
  (void)d;
  (void)arg;
  cancels++;
}

static void program_core(void) {
  end e[8];
  /* A chain: values, arguments with destructors, a failure and its
   * recovery, then waiting on another Deferred. */
  df_deferred *inner = df_deferred_new(NULL, NULL);
  df_deferred *a = df_deferred_new(NULL, NULL);
  df_add_callback(a, step_append, NULL);
  df_add_callbacks_full(a, step_pass, arg_new(), step_pass, arg_new(),
                        arg_free);
  df_add_callback(a, step_fail, NULL);
  df_add_errback(a, step_recover, NULL);
  if (inner != NULL)
    df_add_callback(a, step_wait, inner);
  observe(a, &e[0]);
  df_callback(a, value_new("a"), value_free);
  if (inner != NULL)
    df_callback(inner, value_new("inner"), value_free);
  df_unref(a);
  df_unref(inner);
  expect_ok(&e[0], "chain");

  /* Paused, then chained into another Deferred. */
  df_deferred *p = df_deferred_new(NULL, NULL);
  df_deferred *q = df_deferred_new(NULL, NULL);
  observe(q, &e[1]);
  if (p != NULL && q != NULL) {
    df_pause(p);
    df_chain(p, q);
    df_callback(p, value_new("p"), value_free);
    df_unpause(p);
  } else if (q != NULL) {
    df_callback(q, value_new("q"), value_free);
  }
  df_unref(p);
  df_unref(q);
  expect_ok(&e[1], "chain onto");

  /* Cancel with a canceller. */
  cancels = 0;
  df_deferred *c = df_deferred_new(count_cancel, NULL);
  observe(c, &e[2]);
  df_cancel(c);
  df_callback(c, value_new("late"), value_free); /* swallowed (S17) */
  df_unref(c);
  expect_failure(&e[2], "cancel", &DF_CANCELLED, -1, NULL);
  CHECK(c == NULL || cancels == 1);

  /* A list (one value, one failure, one cancelled) and a gather. */
  df_deferred *m[3];
  for (int i = 0; i < 3; i++)
    m[i] = df_deferred_new(NULL, NULL);
  bool all = m[0] != NULL && m[1] != NULL && m[2] != NULL;
  df_deferred *list = all ? df_list(m, 3, DF_CONSUME_ERRORS) : NULL;
  df_deferred *g[2] = {NULL, NULL};
  df_deferred *gather = NULL;
  if (all) {
    g[0] = df_deferred_new(NULL, NULL);
    g[1] = df_deferred_new(NULL, NULL);
    if (g[0] != NULL && g[1] != NULL)
      gather = df_gather(g, 2, DF_CONSUME_ERRORS);
  }
  observe_owned(list, &e[3]);
  observe_owned(gather, &e[4]);
  if (all) {
    df_callback(m[0], value_new("m0"), value_free);
    df_errback(m[1], df_failure_new(&DF_ERROR, 1, "m1"));
    df_cancel(m[2]);
  }
  for (int i = 0; i < 2; i++) {
    if (g[i] != NULL) {
      if (i == 0)
        df_callback(g[i], value_new("g0"), value_free);
      else
        df_errback(g[i], df_failure_new(&DF_ERROR, 2, "g1"));
    }
  }
  for (int i = 0; i < 3; i++)
    df_unref(m[i]);
  df_unref(g[0]);
  df_unref(g[1]);
  if (all)
    expect_ok(&e[3], "list");
  if (gather != NULL)
    expect_failure(&e[4], "gather", &DF_FIRST_ERROR, 1, NULL);

  /* Already-fired constructors and maybe. */
  observe_owned(df_succeed(value_new("s"), value_free), &e[5]);
  expect_ok(&e[5], "succeed");
  observe_owned(df_fail_now(df_failure_new(&DF_ERROR, 3, "f")), &e[6]);
  expect_failure(&e[6], "fail_now", &DF_ERROR, 3, NULL);
}

/* ------------------------------------------------------------ reactor */

static int ticks;
static void tick(void *arg) {
  (void)arg;
  ticks++;
}

static int reads;
static void on_readable(df_watch *w, int fd, unsigned events, void *arg) {
  (void)w;
  (void)events;
  (void)arg;
  char byte;
  if (read(fd, &byte, 1) == 1)
    reads++;
}

static atomic_int thread_calls;
static void from_thread(void *arg) {
  (void)arg;
  atomic_fetch_add(&thread_calls, 1);
}

typedef struct caller {
  df_reactor *r;
  int rc;
} caller;

static void *call_in(void *arg) {
  caller *c = arg;
  c->rc = df_call_from_thread(c->r, from_thread, NULL);
  return NULL;
}

static void program_reactor(void) {
  df_reactor *r = NULL;
  int rc = df_reactor_new(&r, &(df_reactor_options){.manual_clock = true});
  if (rc != 0) {
    CHECK(rc < 0 && r == NULL);
    return;
  }
  end e[3];
  ticks = reads = 0;
  df_timer *t;
  df_call_later(&t, r, 1.0, tick, NULL);
  df_timer *never;
  df_call_later(&never, r, 50.0, tick, NULL);
  observe_owned(df_sleep(r, 2.0), &e[0]);
  df_deferred *slow = df_deferred_new(NULL, NULL);
  bool armed = slow != NULL && df_add_timeout(slow, r, 0.5) != NULL;
  observe(slow, &e[1]);
  int fds[2];
  CHECK(pipe(fds) == 0);
  df_watch *w;
  df_watch_fd(&w, r, fds[0], DF_READABLE, on_readable, NULL);
  CHECK(write(fds[1], "x", 1) == 1);
  caller c = {r, 0};
  pthread_t th;
  CHECK(pthread_create(&th, NULL, call_in, &c) == 0);
  pthread_join(th, NULL);
  for (int i = 0; i < 4; i++) {
    df_reactor_advance(r, 1.0);
    df_reactor_run_once(r, 0);
  }
  if (!armed && slow != NULL)
    df_callback(slow, value_new("slow"), value_free);
  df_unref(slow);
  df_timer_cancel(never);
  df_watch_stop(w);
  close(fds[0]);
  close(fds[1]);
  CHECK(t == NULL || ticks == 1);
  CHECK(w == NULL || reads == 1);
  CHECK(c.rc == 0 ? atomic_load(&thread_calls) == 1
                  : c.rc == DF_ENOMEM && atomic_load(&thread_calls) == 0);
  expect_ok(&e[0], "sleep");
  if (armed)
    expect_failure(&e[1], "timeout", &DF_TIMEOUT, -1, NULL);
  else
    expect_ok(&e[1], "not timed out");
  CHECK(df_reactor_free(r) == 0);
}

/* ------------------------------------------------------------ pool */

#define JOBS 6

static df_result work(void *arg) {
  (void)arg;
  return df_ok(value_new("work"), value_free);
}

static void program_pool(df_pool_close_mode mode) {
  df_reactor *r = NULL;
  if (df_reactor_new(&r, NULL) != 0)
    return;
  df_pool *pool = NULL;
  int rc = df_pool_new(&pool, r, &(df_pool_options){.threads = 2});
  if (rc != 0) {
    CHECK(rc < 0 && pool == NULL);
    CHECK(df_reactor_free(r) == 0);
    return;
  }
  end e[JOBS];
  for (int i = 0; i < JOBS; i++) {
    df_deferred *d = df_defer_to_thread(pool, work, NULL);
    observe(d, &e[i]);
    if (i == 2)
      df_cancel(d);
    df_unref(d);
  }
  CHECK(df_pool_close(pool, mode) == 0);
  run_until_ended(r, e, JOBS);
  for (int i = 0; i < JOBS; i++) {
    if (i == 2 && !e[i].ok)
      expect_failure(&e[i], "cancelled job", &DF_CANCELLED, -1, NULL);
    else if (mode == DF_POOL_CANCEL && !e[i].ok)
      expect_failure(&e[i], "job", &DF_POOL_CLOSED, -1, NULL);
    else
      expect_ok(&e[i], "job");
  }
  CHECK(df_pool_free(pool) == 0);
  CHECK(df_reactor_free(r) == 0);
}

static void program_pool_drain(void) { program_pool(DF_POOL_DRAIN); }
static void program_pool_cancel(void) { program_pool(DF_POOL_CANCEL); }

/* ------------------------------------------------------------ DNS */

static dft_dnsmasq dnsmasq;
static char silent_servers[32];
static int silent_fd = -1;
static int listener_fd = -1;
static int listener_port;

static df_resolver *resolver_on(df_reactor *r, const char *servers,
                                int timeout_ms, int tries) {
  df_resolver *res = NULL;
  int rc = df_resolver_new(&res, r,
                           &(df_resolver_options){.servers = servers,
                                                  .timeout_ms = timeout_ms,
                                                  .tries = tries});
  CHECK(rc == 0 || (rc < 0 && res == NULL));
  return res;
}

static void program_lookups(void) {
  df_reactor *r = NULL;
  if (df_reactor_new(&r, NULL) != 0)
    return;
  /* Short retransmissions: c-ares 1.18 drops an answer when memory runs
   * out while matching it to its query, and asks again. */
  df_resolver *res = resolver_on(r, dnsmasq.servers, 200, 3);
  if (res != NULL) {
    end e[5];
    observe_owned(df_resolve(res, DFT_NAME_BOTH, AF_INET), &e[0]);
    observe_owned(df_resolve(res, DFT_NAME_MISSING, AF_UNSPEC), &e[1]);
    observe_owned(df_resolve(res, DFT_NAME_V4ONLY, AF_INET6), &e[2]);
    observe_owned(df_resolve(res, "127.0.0.1", AF_UNSPEC), &e[3]);
    observe_owned(df_resolve(res, "::1", AF_INET), &e[4]);
    run_until_ended(r, e, 5);
    expect_ok(&e[0], "answered");
    expect_failure(&e[1], "NXDOMAIN", &DF_DNS, ARES_ENOTFOUND, NULL);
    expect_failure(&e[2], "no data", &DF_DNS, ARES_ENODATA, NULL);
    expect_ok(&e[3], "literal");
    expect_failure(&e[4], "literal of the other family", &DF_DNS, ARES_ENODATA,
                   NULL);
    df_resolver_free(res);
  }
  CHECK(df_reactor_free(r) == 0);
}

static void program_silent(void) {
  df_reactor *r = NULL;
  if (df_reactor_new(&r, NULL) != 0)
    return;
  df_resolver *res = resolver_on(r, silent_servers, 100, 1);
  if (res != NULL) {
    end e[2];
    observe_owned(df_resolve(res, DFT_NAME_BOTH, AF_INET), &e[0]);
    df_deferred *d = df_resolve(res, DFT_NAME_DUAL, AF_INET);
    observe(d, &e[1]);
    df_cancel(d);
    df_unref(d);
    run_until_ended(r, e, 2);
    expect_failure(&e[0], "silent server", &DF_DNS, ARES_ETIMEOUT, NULL);
    expect_failure(&e[1], "cancelled lookup", &DF_CANCELLED, -1, NULL);
    /* The cancelled lookup's query runs on until c-ares gives up. */
    double limit = wall() + LOOP_SECONDS;
    struct df_resolver_stats st;
    while (df_resolver_stats(res, &st) == 0 && st.pending > 0 && wall() < limit)
      df_reactor_run_once(r, 10);
    df_resolver_free(res);
  }
  CHECK(df_reactor_free(r) == 0);
}

static void program_connect(void) {
  df_reactor *r = NULL;
  if (df_reactor_new(&r, NULL) != 0)
    return;
  df_resolver *res = resolver_on(r, dnsmasq.servers, 200, 3);
  if (res != NULL) {
    end e[2];
    unsigned port = (unsigned)listener_port;
    observe_owned(df_connect_tcp(r, res, "127.0.0.1", port, NULL), &e[0]);
    observe_owned(df_connect_tcp(r, res, DFT_NAME_BOTH, port,
                                 &(df_connect_options){.family = AF_INET}),
                  &e[1]);
    run_until_ended(r, e, 2);
    expect_ok(&e[0], "connect to a literal");
    expect_ok(&e[1], "connect by name");
    df_resolver_free(res);
  }
  CHECK(df_reactor_free(r) == 0);
}

/* ------------------------------------------------------------ runner */

typedef struct program {
  const char *name;
  void (*run)(void);
  bool dns;
} program;

static const program programs[] = {
    {"core chains and lists", program_core, false},
    {"reactor timers, watches, thread calls", program_reactor, false},
    {"pool submit, cancel, close (drain)", program_pool_drain, false},
    {"pool submit, cancel, close (cancel)", program_pool_cancel, false},
    {"resolver lookups", program_lookups, true},
    {"resolver silent server", program_silent, true},
    {"connect", program_connect, true},
};

/* What a child reports through its pipe. */
typedef struct report {
  long calls;
  long failures;
  int problems;
} report;

static void reset_signals(void) {
  static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT, SIGABRT,
                             SIGSEGV, SIGBUS,  SIGFPE, SIGILL,  SIGALRM};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    signal(sigs[i], SIG_DFL);
}

/* The child: one run of \p p with allocation \p k failing (0: none). Exits
 * with _exit so that the parent's exit handlers (the DNS server's) stay the
 * parent's. */
static void child(const program *p, long k, int out) {
  reset_signals();
  alarm(CHILD_SECONDS);
  int fds_before = dft_fd_count();
  df_set_unhandled_hook(quiet_unhandled, NULL);
  problems = 0;
  dft_alloc_fail_nth(k);
  p->run();
  report rep = {dft_alloc_calls(), dft_alloc_failures(), 0};
  dft_alloc_fail_none();
  CHECK(dft_alloc_outstanding() == 0);
  CHECK(atomic_load(&values_made) == atomic_load(&values_freed));
  CHECK(atomic_load(&args_made) == atomic_load(&args_freed));
  CHECK(dft_fd_count() == fds_before);
  CHECK(LEAK_CHECK() == 0);
  rep.problems = problems;
  ssize_t n = write(out, &rep, sizeof rep);
  _exit(n == (ssize_t)sizeof rep ? 0 : 3);
}

/* Runs \p p in a child with allocation \p k failing; false when the child
 * crashed, hung, or found a problem. */
static bool run_child(const program *p, long k, report *rep) {
  int fds[2];
  if (pipe(fds) != 0)
    return false;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    close(fds[0]);
    child(p, k, fds[1]);
  }
  close(fds[1]);
  memset(rep, 0, sizeof *rep);
  ssize_t n;
  do {
    n = read(fds[0], rep, sizeof *rep);
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool ok = n == (ssize_t)sizeof *rep && WIFEXITED(status) &&
            WEXITSTATUS(status) == 0 && rep->problems == 0;
  if (!ok) {
    fprintf(stderr, "%s: allocation %ld failing: ", p->name, k);
    if (WIFSIGNALED(status))
      fprintf(stderr, "killed by signal %d\n", WTERMSIG(status));
    else
      fprintf(stderr, "exit %d, %d problem(s)\n",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1, rep->problems);
  }
  return ok;
}

static bool start_servers(void) {
  if (dft_dnsmasq_start(&dnsmasq) != 0)
    return false;
  silent_fd = dft_silent_server(silent_servers);
  listener_fd = dft_listener(AF_INET, 0, 128, &listener_port);
  return silent_fd >= 0 && listener_fd >= 0;
}

int main(int argc, char **argv) {
  /* An optional argument picks the programs whose name contains it. */
  const char *only = argc > 1 ? argv[1] : NULL;
  if (dft_alloc_install() != 0) {
    fprintf(stderr, "cannot install the counting allocator\n");
    return 1;
  }
  if (!start_servers()) {
    fprintf(stderr, "cannot start the DNS and TCP servers\n");
    return 1;
  }
  long total_sites = 0, total_runs = 0;
  int failed = 0;
  for (size_t i = 0; i < sizeof programs / sizeof programs[0]; i++) {
    const program *p = &programs[i];
    if (only != NULL && strstr(p->name, only) == NULL)
      continue;
    report rep;
    long runs = 1;
    if (!run_child(p, 0, &rep)) {
      failed++;
      continue;
    }
    long sites = rep.calls;
    int bad = 0;
    /* Until a run makes no allocation fail: threads may make the count
     * vary from run to run, so it is not taken from the first run. */
    for (long k = 1; k < 1000000; k++) {
      runs++;
      if (!run_child(p, k, &rep)) {
        bad++;
        continue;
      }
      if (rep.failures == 0)
        break;
      if (k > sites)
        sites = k;
    }
    printf("%-42s %5ld allocation sites, %5ld runs%s\n", p->name, sites, runs,
           bad ? ", FAILED" : "");
    total_sites += sites;
    total_runs += runs;
    failed += bad;
  }
  dft_dnsmasq_stop(&dnsmasq);
  close(silent_fd);
  close(listener_fd);
  printf("allocation failure: %ld sites, %ld runs, %d failed\n", total_sites,
         total_runs, failed);
  return failed == 0 && total_runs > 0 ? 0 : 1;
}
