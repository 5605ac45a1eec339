/* A seeded random-operation driver of the core (Deferreds, lists, timeouts
 * on a manual clock).
 *
 * Each seed makes a run of random operations on the Deferreds it creates:
 * new (with or without a canceller), df_sleep, steps of every kind (pass,
 * value, failure, recovery, df_wait of another Deferred or of its own, and
 * steps that fire, errback, cancel, pause, unpause or extend another
 * Deferred, or advance the clock, from inside a chain), fire with a value
 * or a failure, cancel, pause and unpause, df_chain, df_list, df_gather,
 * df_add_timeout(_full), clock advances, refused calls and unref. After
 * every operation it checks:
 *   - each step runs at most once and is released at most once, never runs
 *     after its release;
 *   - df_called() never goes back to false;
 *   - a fire of an unfired Deferred returns 0; a fire of a fired one
 *     returns DF_EALREADY, except the one fire swallowed after a cancel
 *     without canceller (S10, S17); a Deferred as a value is refused with
 *     DF_EINVAL and leaves the Deferred unfired; df_unpause() without a
 *     pause returns DF_ENOTPAUSED; df_reactor_advance() inside an advance
 *     returns DF_EBUSY;
 *   - values are freed at most once.
 * At the end it fires or cancels every Deferred still unfired, runs the
 * chains that stayed behind (see settle()), lets every timer fall due, drops
 * every reference, and checks that every value and step argument was
 * released exactly once, that the reactor is idle and that the library holds
 * no memory.
 *
 * Reference counting has no cycle collector (deferred.h), and the steps
 * here hold references to other Deferreds, so a Deferred is let go for good
 * only once its own chain has run to the end; until then the driver keeps a
 * reference of its own, dropped at the end.
 *
 * A failing seed prints how to replay it: DF_FUZZ_SEED=n replays one seed
 * with every operation printed. DF_FUZZ_SEEDS (seeds 1..n, default 300),
 * DF_FUZZ_OPS (operations per seed, default 200) and DF_FUZZ_SECONDS (after
 * the fixed seeds, go on with the next seeds until that many seconds have
 * passed) make longer runs. A run of seeds starts with the seeds that once
 * failed (regression_seeds[]). */
#define _XOPEN_SOURCE 700

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <deferred.h>
#include <deferred/alloc.h>
#include <deferred/list.h>
#include <deferred/reactor.h>

#include "dft_alloc.h"
#include "dft_fuzz_driver.h"

#define MAX_DEFERREDS 256
#define SLOTS 8
#define MAX_STEPS 16384

static uint64_t rng;
static char crash_note[96]; /* printed if the seed running crashes */
static bool trace;
static int problems;
static unsigned long long operations;

static unsigned pick(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (unsigned)(rng % n);
}

#define SAY(...)                                                               \
  do {                                                                         \
    if (trace)                                                                 \
      printf(__VA_ARGS__);                                                     \
  } while (0)

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "  line %d: check failed: %s\n", __LINE__, #cond);       \
      problems++;                                                              \
    }                                                                          \
  } while (0)

/* ------------------------------------------------------------ values */

#define VALUE_ALIVE 0x56414c55u
#define VALUE_DEAD 0xdeadbeefu

typedef struct value_box {
  unsigned magic;
} value_box;

static long values_made, values_freed;

static void value_free(void *v) {
  value_box *b = v;
  CHECK(b->magic == VALUE_ALIVE);
  b->magic = VALUE_DEAD;
  values_freed++;
  free(b);
}

static df_result value(void) {
  value_box *b = malloc(sizeof *b);
  if (b == NULL)
    abort();
  b->magic = VALUE_ALIVE;
  values_made++;
  return df_ok(b, value_free);
}

static const df_error_type FUZZ_ERROR = {"FuzzError", &DF_ERROR};

static df_result failure(const char *why) {
  return df_fail(df_failure_new(&FUZZ_ERROR, 0, "%s", why));
}

/* ------------------------------------------------------------ model */

/* One Deferred the run made. */
typedef struct entry {
  df_deferred *d;     /* the driver's reference; NULL once let go */
  bool held;          /* operations may pick it (the driver's "variable") */
  bool called;        /* df_called() seen true */
  bool has_canceller; /* a canceller, or a list's cancel: no swallow (S17) */
  bool is_list;       /* df_list()/df_gather() */
  bool fired;         /* a fire of ours was accepted while it was unfired */
  bool swallowed;     /* the one fire swallowed after a cancel (S17) */
  int pauses;         /* df_pause() calls not yet undone */
} entry;

static entry ents[MAX_DEFERREDS];
static unsigned n_ents;
static df_reactor *reactor;
static bool in_advance;
/* Waits on lists are left out unless DF_FUZZ_LIST_WAITS=1: df_cancel() of
 * a list one of whose members waits on that list (directly or through other
 * waits) recurses without bound (list.c cancel_members() -> df_cancel() of
 * the member's innermost Deferred, the list again) and overflows the stack;
 * Twisted recurses the same way until RecursionError, which DeferredList
 * logs. */
static bool list_waits;

enum kind {
  K_PASS,
  K_VALUE,
  K_FAIL,
  K_RECOVER,
  K_WAIT,
  K_WAIT_SELF,
  K_FIRE_OTHER,
  K_CANCEL_OTHER,
  K_PAUSE_OTHER,
  K_UNPAUSE_OTHER,
  K_EXTEND_OTHER,
  K_ADVANCE,
  K_KINDS,
  K_KICK = K_KINDS /* only added by settle() */
};

static const char *const kind_names[] = {
    "pass",        "value",         "fail",         "recover",
    "wait",        "wait-self",     "fire-other",   "cancel-other",
    "pause-other", "unpause-other", "extend-other", "advance",
    "kick"};

typedef struct step {
  unsigned id;
  enum kind kind;
  unsigned target;  /* entry index, for wait and the *-other kinds */
  df_deferred *ref; /* a reference to the target, or NULL */
} step;

static unsigned char ran[MAX_STEPS];
static unsigned char released[MAX_STEPS];
static unsigned next_step;
static long args_made, args_freed;

static void step_free(void *arg) {
  step *s = arg;
  CHECK(!released[s->id]);
  released[s->id] = 1;
  args_freed++;
  df_unref(s->ref);
  free(s);
}

static df_result run_step(df_result in, void *arg);

/* Adds a step of \p kind to entry \p owner; \p side: 0 callback, 1 errback,
 * 2 both. Returns the step's id, or -1 when none was added. */
static long add_step(unsigned owner, enum kind kind, unsigned target,
                     unsigned side) {
  if (next_step >= MAX_STEPS)
    return -1;
  step *s = malloc(sizeof *s);
  if (s == NULL)
    abort();
  s->id = next_step++;
  s->kind = kind;
  s->target = target;
  s->ref = NULL;
  if (kind == K_WAIT || (kind >= K_FIRE_OTHER && kind <= K_EXTEND_OTHER))
    s->ref = df_ref(ents[target].d);
  else if (kind == K_WAIT_SELF)
    s->ref = df_ref(ents[owner].d);
  args_made++;
  SAY("    step %u %s side %u on #%u", s->id, kind_names[kind], side, owner);
  if (s->ref != NULL)
    SAY(" target #%u", kind == K_WAIT_SELF ? owner : target);
  SAY("\n");
  df_callback_fn cb = side != 1 ? run_step : NULL;
  df_callback_fn eb = side != 0 ? run_step : NULL;
  long id = (long)s->id; /* the step may run and be freed inside the call */
  CHECK(df_add_callbacks_full(ents[owner].d, cb, cb ? s : NULL, eb,
                              eb ? s : NULL, step_free) == ents[owner].d);
  return id;
}

static void check_fire_answer(int rc, bool was_called, entry *e) {
  if (!was_called) {
    CHECK(rc == 0);
    e->fired = true;
  } else if (rc == 0) {
    /* Only the one fire after a cancel without canceller is swallowed. */
    CHECK(!e->has_canceller && !e->fired && !e->swallowed);
    e->swallowed = true;
  } else {
    CHECK(rc == DF_EALREADY);
  }
}

/* Fires entry \p e (referenced by \p d) with a value or a failure. */
static void fire(entry *e, df_deferred *d) {
  bool was = df_called(d);
  bool fail = pick(3) == 0;
  SAY("      fire #%u with a %s\n", (unsigned)(e - ents),
      fail ? "failure" : "value");
  int rc = df_fire(d, fail ? failure("fired") : value());
  SAY("      -> %d\n", rc);
  check_fire_answer(rc, was, e);
}

static void cancel(entry *e, df_deferred *d) {
  SAY("      cancel #%u\n", (unsigned)(e - ents));
  df_cancel(d);
}

static void pause_entry(entry *e, df_deferred *d) {
  if (e->pauses >= 3)
    return;
  SAY("      pause #%u\n", (unsigned)(e - ents));
  CHECK(df_pause(d) == 0);
  e->pauses++;
}

static void unpause_entry(entry *e, df_deferred *d) {
  SAY("      unpause #%u (%d pauses)\n", (unsigned)(e - ents), e->pauses);
  if (e->pauses == 0) {
    /* Waiting on another Deferred is not a pause (deferred.h). */
    CHECK(df_unpause(d) == DF_ENOTPAUSED);
    return;
  }
  e->pauses--;
  CHECK(df_unpause(d) == 0);
}

static void advance(double seconds) {
  SAY("      advance %.1f%s\n", seconds, in_advance ? " (inside one)" : "");
  if (in_advance) {
    CHECK(df_reactor_advance(reactor, seconds) == DF_EBUSY);
    return;
  }
  in_advance = true;
  CHECK(df_reactor_advance(reactor, seconds) == 0);
  in_advance = false;
}

static enum kind simple_kind(void) { return (enum kind)pick(K_WAIT); }

static df_result run_step(df_result in, void *arg) {
  step *s = arg;
  CHECK(!ran[s->id]);
  CHECK(!released[s->id]);
  ran[s->id] = 1;
  SAY("    ran step %u %s on a %s\n", s->id, kind_names[s->kind],
      df_result_is_failure(in) ? "failure" : "value");
  entry *t = &ents[s->target];
  switch (s->kind) {
  case K_PASS:
  case K_KICK:
    return in;
  case K_VALUE:
    df_result_free(in);
    return value();
  case K_FAIL:
    df_result_free(in);
    return failure("step");
  case K_RECOVER:
    if (df_result_is_failure(in)) {
      df_result_free(in);
      return value();
    }
    return in;
  case K_WAIT:
  case K_WAIT_SELF:
    /* Waiting on itself, directly or through a cycle, turns into a
     * DF_INVALID_ARGUMENT failure (S27). */
    df_result_free(in);
    return df_wait(s->ref);
  case K_FIRE_OTHER:
    fire(t, s->ref);
    return in;
  case K_CANCEL_OTHER:
    cancel(t, s->ref);
    return in;
  case K_PAUSE_OTHER:
    /* Only an entry the driver still holds can be unpaused later. */
    if (t->d != NULL)
      pause_entry(t, s->ref);
    return in;
  case K_UNPAUSE_OTHER:
    if (t->d != NULL)
      unpause_entry(t, s->ref);
    return in;
  case K_EXTEND_OTHER:
    if (t->d != NULL)
      add_step(s->target, simple_kind(), 0, pick(3));
    return in;
  case K_ADVANCE:
    advance(0.5);
    return in;
  default:
    return in;
  }
}

/* ------------------------------------------------------------ operations */

static void cancel_nothing(df_deferred *d, void *arg) {
  (void)d;
  (void)arg;
}

static entry *add_entry(df_deferred *d, bool has_canceller) {
  CHECK(d != NULL);
  entry *e = &ents[n_ents++];
  memset(e, 0, sizeof *e);
  e->d = d;
  e->held = true;
  e->has_canceller = has_canceller;
  return e;
}

/* A random entry the driver still references (\p held: one it holds), or
 * NULL. */
static entry *random_entry(bool held) {
  if (n_ents == 0)
    return NULL;
  unsigned start = pick(n_ents);
  for (unsigned i = 0; i < n_ents; i++) {
    entry *e = &ents[(start + i) % n_ents];
    if (e->d != NULL && (!held || e->held))
      return e;
  }
  return NULL;
}

static unsigned held_count(void) {
  unsigned n = 0;
  for (unsigned i = 0; i < n_ents; i++)
    n += ents[i].held;
  return n;
}

static void op_new(void) {
  bool canceller = pick(2);
  SAY("  new #%u%s\n", n_ents, canceller ? " with canceller" : "");
  add_entry(df_deferred_new(canceller ? cancel_nothing : NULL, NULL),
            canceller);
}

static void op_sleep(void) {
  double seconds = (double)pick(4) * 0.5;
  SAY("  sleep %.1f as #%u\n", seconds, n_ents);
  add_entry(df_sleep(reactor, seconds), true);
}

static void op_step(entry *e) {
  enum kind kind = (enum kind)pick(K_KINDS);
  entry *t = random_entry(false);
  if (!list_waits &&
      ((kind == K_WAIT && t->is_list) || (kind == K_WAIT_SELF && e->is_list)))
    kind = K_PASS;
  SAY("  add to #%u\n", (unsigned)(e - ents));
  add_step((unsigned)(e - ents), kind, (unsigned)(t - ents), pick(3));
}

static void op_misuse(entry *e) {
  SAY("  misuse #%u\n", (unsigned)(e - ents));
  CHECK(df_chain(e->d, e->d) == NULL);
  CHECK(df_add_timeout(e->d, reactor, -1.0) == NULL);
  CHECK(df_fire(NULL, value()) == DF_EINVAL);
  if (!df_called(e->d)) {
    entry *o = random_entry(false);
    CHECK(df_fire(e->d, df_wait(o->d)) == DF_EINVAL);
    CHECK(!df_called(e->d));
  }
  if (e->pauses == 0)
    CHECK(df_unpause(e->d) == DF_ENOTPAUSED);
}

static void op_chain(entry *e) {
  entry *o = random_entry(false);
  if (o == e)
    return;
  SAY("  chain #%u into #%u\n", (unsigned)(e - ents), (unsigned)(o - ents));
  CHECK(df_chain(e->d, o->d) == e->d);
}

static void op_list(void) {
  df_deferred *ds[4];
  size_t n = pick(5);
  SAY("  ");
  for (size_t i = 0; i < n; i++) {
    entry *m = random_entry(false);
    ds[i] = m->d;
    SAY("#%u ", (unsigned)(m - ents));
  }
  bool gather = pick(2);
  unsigned flags = pick(2) ? DF_CONSUME_ERRORS : 0;
  if (!gather)
    flags |= pick(4) & (DF_FIRE_ON_ONE_CALLBACK | DF_FIRE_ON_ONE_ERRBACK);
  SAY("in a %s (flags %u) as #%u\n", gather ? "gather" : "list", flags, n_ents);
  add_entry(gather ? df_gather(ds, n, flags) : df_list(ds, n, flags), true)
      ->is_list = true;
}

static df_result on_timeout(df_result result, double seconds, void *arg) {
  (void)seconds;
  (void)arg;
  SAY("    timeout converter on a %s\n",
      df_result_is_failure(result) ? "failure" : "value");
  if (pick(2)) {
    df_result_free(result);
    return value();
  }
  return result;
}

static void op_timeout(entry *e) {
  double seconds = (double)pick(4) * 0.5;
  bool full = pick(2);
  SAY("  timeout%s %.1f on #%u\n", full ? " (custom)" : "", seconds,
      (unsigned)(e - ents));
  df_deferred *r =
      full ? df_add_timeout_full(e->d, reactor, seconds, on_timeout, NULL)
           : df_add_timeout(e->d, reactor, seconds);
  CHECK(r == e->d);
}

/* Runs what \p e's chain still holds: a step added to a fired Deferred that
 * neither waits nor is paused runs at once, and with it every step before it
 * that stayed behind (a chain that handed its result to a paused waiter
 * stops there, as in Twisted, until a step is added). True when the chain
 * ran to its end and \p e is not paused.
 *
 * A pause-other step run by this very kick may pause \p e itself: the pause
 * does not stop the run it is made in (R3.4), so the kick still runs, but
 * \p e stays paused. Only the driver's reference can undo that pause (the
 * steps' references are not unpaused, see K_PAUSE_OTHER), and a Deferred
 * that waits on a paused one stays alive, holding it, until the unpause
 * (deferred.h: no cycle collector; Twisted only frees such a pair through
 * its garbage collector). So \p e is not settled then: the driver keeps its
 * reference and finish() unpauses it. */
static bool settle(entry *e) {
  if (e->pauses > 0 || !df_called(e->d) || df_waiting(e->d))
    return false;
  long id = add_step((unsigned)(e - ents), K_KICK, 0, 2);
  return id >= 0 && ran[id] && !df_waiting(e->d) && e->pauses == 0;
}

/* The driver stops holding \p e; once its chain ran to the end, it drops its
 * reference (the Deferred lives on while others reference it). */
static void op_unref(entry *e) {
  SAY("  unref #%u\n", (unsigned)(e - ents));
  e->held = false;
  if (settle(e)) {
    SAY("    released #%u\n", (unsigned)(e - ents));
    df_unref(e->d);
    e->d = NULL;
  }
}

static void check_entries(void) {
  for (unsigned i = 0; i < n_ents; i++) {
    entry *e = &ents[i];
    if (e->d == NULL)
      continue;
    bool called = df_called(e->d);
    CHECK(called || !e->called);
    e->called = called;
    CHECK(!df_waiting(e->d) || called);
  }
  CHECK(values_freed <= values_made);
  CHECK(args_freed <= args_made);
}

static void one_operation(void) {
  entry *e = random_entry(true);
  unsigned op = pick(20);
  if (n_ents >= MAX_DEFERREDS - 1)
    op = op < 3 ? 3 : op; /* no more new Deferreds */
  if (e == NULL && n_ents < MAX_DEFERREDS - 1)
    op = 0;
  else if (e == NULL)
    op = 14;
  if (op == 0 || op == 1) {
    op_new();
  } else if (op == 2) {
    op_sleep();
  } else if (op <= 6) {
    op_step(e);
  } else if (op <= 8) {
    SAY("  fire\n");
    fire(e, e->d);
  } else if (op == 9) {
    SAY("  cancel\n");
    cancel(e, e->d);
  } else if (op == 10) {
    SAY("  pause/unpause\n");
    if (e->pauses > 0 && pick(2))
      unpause_entry(e, e->d);
    else
      pause_entry(e, e->d);
  } else if (op == 11) {
    op_chain(e);
  } else if (op == 12) {
    if (n_ents < MAX_DEFERREDS - 1)
      op_list();
  } else if (op == 13) {
    op_timeout(e);
  } else if (op == 14) {
    SAY("  advance\n");
    advance((double)pick(3) * 0.5);
  } else if (op == 15) {
    op_misuse(e);
  } else if (op <= 17 && held_count() > SLOTS) {
    op_unref(e);
  } else if (op == 18 && held_count() > SLOTS / 2) {
    op_unref(e);
  } else if (n_ents < MAX_DEFERREDS - 1) {
    op_new();
  }
  operations++;
  check_entries();
}

/* Fires or cancels every Deferred still unfired, undoes every pause and runs
 * the chains that stayed behind, until every Deferred has fired and none
 * waits; each round fires at least one more or ends. */
static void finish(void) {
  SAY("  finish\n");
  for (unsigned round = 0; round <= n_ents + 1; round++) {
    bool unsettled = false;
    for (unsigned i = 0; i < n_ents; i++) {
      entry *e = &ents[i];
      if (e->d == NULL)
        continue;
      while (e->pauses > 0)
        unpause_entry(e, e->d);
      if (!df_called(e->d)) {
        if (pick(2))
          cancel(e, e->d);
        else
          fire(e, e->d);
      }
    }
    for (unsigned i = 0; i < n_ents; i++) {
      entry *e = &ents[i];
      if (e->d != NULL && !settle(e))
        unsettled = true;
    }
    /* A step run by a later settle() may have paused an earlier entry. */
    for (unsigned i = 0; i < n_ents; i++)
      if (ents[i].d != NULL && ents[i].pauses > 0)
        unsettled = true;
    if (!unsettled)
      break;
  }
  for (unsigned i = 0; i < n_ents; i++) {
    entry *e = &ents[i];
    if (e->d == NULL)
      continue;
    if (!df_called(e->d) || df_waiting(e->d) || e->pauses > 0) {
      fprintf(stderr, "  #%u did not settle: called %d waiting %d\n", i,
              df_called(e->d), df_waiting(e->d));
      problems++;
    }
  }
  /* Every timer falls due (a timeout of a fired Deferred does nothing). */
  advance(1000.0);
  for (unsigned i = 0; i < n_ents; i++) {
    df_unref(ents[i].d);
    ents[i].d = NULL;
  }
}

static long unhandled;

static void count_unhandled(const df_failure *f, const df_debug_info *where,
                            void *arg) {
  (void)f;
  (void)where;
  (void)arg;
  unhandled++;
}

static bool run_seed(unsigned long long seed, unsigned ops) {
  snprintf(
      crash_note, sizeof crash_note,
      "\nseed %llu crashed: replay with DF_FUZZ_SEED=%llu DF_FUZZ_OPS=%u\n",
      seed, seed, ops);
  rng = seed * 0x9E3779B97F4A7C15ULL + 1;
  problems = 0;
  memset(ents, 0, sizeof ents);
  n_ents = 0;
  memset(ran, 0, sizeof ran);
  memset(released, 0, sizeof released);
  next_step = 0;
  values_made = values_freed = args_made = args_freed = 0;
  in_advance = false;
  long before = dft_alloc_outstanding();
  reactor = NULL;
  if (df_reactor_new(&reactor, &(df_reactor_options){.manual_clock = true}) !=
      0)
    return false;
  for (unsigned i = 0; i < ops; i++)
    one_operation();
  finish();
  CHECK(df_reactor_free(reactor) == 0);
  CHECK(values_made == values_freed);
  CHECK(args_made == args_freed);
  for (unsigned i = 0; i < next_step; i++) {
    if (!released[i])
      fprintf(stderr, "  step %u never released\n", i);
    CHECK(released[i]);
  }
  CHECK(dft_alloc_outstanding() == before);
  return problems == 0;
}

/* ------------------------------------------------------------ crashes */

/* A crash ends the run before the seed's line is printed: this names the
 * seed that was running, from a sanitizer's death callback or, in a plain
 * build, from a signal handler on a stack of its own (stack overflows). */
static void say_crash(void) {
  ssize_t ignored = write(STDERR_FILENO, crash_note, strlen(crash_note));
  (void)ignored;
}

/* Seeds of 200 operations that once failed, run first by every run of
 * seeds, so that what they found stays fixed whatever DF_FUZZ_SEEDS and
 * DF_FUZZ_SECONDS reach:
 *   96620: a kick of settle() ran a step that paused the entry being let go;
 *          the driver dropped the only reference that could unpause it, and
 *          a Deferred waiting on it never finished (see settle()). */
static const unsigned long long regression_seeds[] = {96620};

int main(void) {
  if (dft_alloc_install() != 0)
    return 1;
  df_set_unhandled_hook(count_unhandled, NULL);
  dft_watch_crashes(say_crash);
  unsigned ops = (unsigned)dft_env_number("DF_FUZZ_OPS", 200);
  list_waits = dft_env_number("DF_FUZZ_LIST_WAITS", 0) != 0;
  const char *one = getenv("DF_FUZZ_SEED");
  if (one != NULL && *one != '\0') {
    trace = true;
    setvbuf(stdout, NULL, _IONBF, 0);
    bool ok = run_seed(strtoull(one, NULL, 10), ops);
    printf("seed %s: %llu operations, %s\n", one, operations,
           ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
  }
  unsigned long seeds = dft_env_number("DF_FUZZ_SEEDS", 300);
  double seconds = (double)dft_env_number("DF_FUZZ_SECONDS", 0);
  double start = dft_monotonic_seconds();
  unsigned long failed = 0;
  for (size_t i = 0; i < sizeof regression_seeds / sizeof *regression_seeds;
       i++) {
    unsigned long long r = regression_seeds[i];
    if (!run_seed(r, 200)) {
      failed++;
      fprintf(stderr,
              "regression seed %llu failed: replay with DF_FUZZ_SEED=%llu "
              "DF_FUZZ_OPS=200\n",
              r, r);
    }
  }
  unsigned long s = 1;
  for (; s <= seeds || dft_monotonic_seconds() - start < seconds; s++) {
    if (!run_seed(s, ops)) {
      failed++;
      fprintf(stderr,
              "seed %lu failed: replay with DF_FUZZ_SEED=%lu DF_FUZZ_OPS=%u\n",
              s, s, ops);
    }
  }
  printf("core fuzz: %zu regression seeds, %lu seeds of %u operations, %llu "
         "operations, %ld unhandled failures reported, %lu seeds failed, "
         "%.1f s\n",
         sizeof regression_seeds / sizeof *regression_seeds, s - 1, ops,
         operations, unhandled, failed, dft_monotonic_seconds() - start);
  return failed == 0 ? 0 : 1;
}
