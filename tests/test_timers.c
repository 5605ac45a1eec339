/* S29: timed calls (callLater). Order by (deadline, scheduling), cancel and
 * reset from everywhere, the per-round snapshot, clamped deadlines, the
 * manual clock, and the system clock end to end. */
#include <CUnit/CUnit.h>
#include <deferred.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "dft.h"
#include "dft_reactor.h"

/* ------------------------------------------------------------ order */

static void test_s29_timers_run_in_deadline_order(void) {
  df_reactor *r = dft_reactor_begin(true);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, 3.0, dft_trace_arg, DFT_S("c")), 0);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, 1.0, dft_trace_arg, DFT_S("a")), 0);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, 2.0, dft_trace_arg, DFT_S("b")), 0);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.5), 0);
  CU_ASSERT_TRUE(dft_trace_equals("a"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 10.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("a b c"));
  dft_reactor_end(r);
}

static void test_s29_equal_deadlines_run_in_scheduling_order(void) {
  df_reactor *r = dft_reactor_begin(true);
  static const char *tags[] = {"1", "2", "3", "4", "5", "6", "7", "8"};
  for (int i = 0; i < 8; i++)
    df_call_later(NULL, r, 1.0, dft_trace_arg, DFT_S(tags[i]));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("1 2 3 4 5 6 7 8"));
  dft_reactor_end(r);
}

/* A larger heap: random deadlines (many equal), a third cancelled; what runs
 * comes out sorted by deadline and, for equal ones, by scheduling order. */
typedef struct order_rec {
  int deadline;
  int seq;
  df_timer *timer;
} order_rec;

static order_rec recs[600];
static int ran[600];
static int nran;

static void record_run(void *arg) {
  ran[nran++] = (int)((order_rec *)arg - recs);
}

static void test_s29_heap_order_with_cancels(void) {
  df_reactor *r = dft_reactor_begin(true);
  uint32_t seed = 12345;
  nran = 0;
  for (int i = 0; i < 600; i++) {
    seed = seed * 1103515245u + 12345u;
    recs[i].deadline = (int)((seed >> 16) % 50);
    recs[i].seq = i;
    df_call_later(&recs[i].timer, r, recs[i].deadline, record_run, &recs[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(recs[i].timer);
  }
  for (int i = 0; i < 600; i += 3) {
    df_timer_cancel(recs[i].timer);
    recs[i].timer = NULL;
  }
  CU_ASSERT_EQUAL(df_reactor_advance(r, 100.0), 0);
  CU_ASSERT_EQUAL(nran, 400);
  for (int k = 1; k < nran; k++) {
    const order_rec *a = &recs[ran[k - 1]];
    const order_rec *b = &recs[ran[k]];
    CU_ASSERT_TRUE(a->deadline < b->deadline ||
                   (a->deadline == b->deadline && a->seq < b->seq));
  }
  for (int k = 0; k < nran; k++)
    CU_ASSERT_NOT_EQUAL(ran[k] % 3, 0);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ cancel */

static void test_s29_cancelled_timer_never_runs(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *t;
  df_call_later(&t, r, 1.0, dft_trace_arg, DFT_S("cancelled"));
  df_call_later(NULL, r, 1.0, dft_trace_arg, DFT_S("kept"));
  df_timer_cancel(t);
  df_timer_cancel(NULL);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 2.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("kept"));
  dft_reactor_end(r);
}

/* Two timers due in the same round: the first cancels the second, which is
 * already in the round's snapshot. */
static df_timer *victim;

static void cancel_victim(void *arg) {
  dft_trace_arg(arg);
  df_timer_cancel(victim);
  victim = NULL;
}

static void test_s29_cancel_of_timer_due_in_same_round(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_call_later(NULL, r, 1.0, cancel_victim, DFT_S("first"));
  df_call_later(&victim, r, 1.0, dft_trace_arg, DFT_S("victim"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first"));
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ reset */

static void test_s29_reset_moves_the_deadline(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *t;
  df_call_later(&t, r, 1.0, dft_trace_arg, DFT_S("reset"));
  df_call_later(NULL, r, 3.0, dft_trace_arg, DFT_S("three"));
  CU_ASSERT_EQUAL(df_timer_reset(t, 5.0), 0);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 4.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("three"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("three reset"));
  dft_reactor_end(r);
}

/* A reset timer runs after the timers already scheduled for its new
 * deadline (it takes a new place in the scheduling order). */
static void test_s29_reset_goes_after_equal_deadlines(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *t;
  df_call_later(&t, r, 2.0, dft_trace_arg, DFT_S("reset"));
  df_call_later(NULL, r, 2.0, dft_trace_arg, DFT_S("other"));
  CU_ASSERT_EQUAL(df_timer_reset(t, 2.0), 0);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 2.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("other reset"));
  dft_reactor_end(r);
}

static void test_s29_reset_bad_arguments(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *t;
  df_call_later(&t, r, 1.0, dft_trace_arg, DFT_S("t"));
  CU_ASSERT_EQUAL(df_timer_reset(NULL, 1.0), DF_EINVAL);
  CU_ASSERT_EQUAL(df_timer_reset(t, -1.0), DF_EINVAL);
  CU_ASSERT_EQUAL(df_timer_reset(t, NAN), DF_EINVAL);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0); /* still armed at 1 s */
  CU_ASSERT_TRUE(dft_trace_equals("t"));
  dft_reactor_end(r);
}

/* A periodic timer: it re-arms itself from its own function. */
static int periodic_runs;

static void periodic(void *arg) {
  df_timer **self = arg;
  if (++periodic_runs < 3) {
    CU_ASSERT_EQUAL(df_timer_reset(*self, 1.0), 0);
  } else {
    *self = NULL; /* not re-armed: the handle goes when this returns */
  }
}

static void test_s29_reset_inside_own_function_repeats(void) {
  df_reactor *r = dft_reactor_begin(true);
  static df_timer *t;
  periodic_runs = 0;
  df_call_later(&t, r, 1.0, periodic, &t);
  for (int i = 0; i < 5; i++)
    CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_EQUAL(periodic_runs, 3);
  CU_ASSERT_PTR_NULL(t);
  dft_reactor_end(r);
}

static void reset_then_cancel(void *arg) {
  df_timer *self = *(df_timer **)arg;
  dft_trace("ran");
  CU_ASSERT_EQUAL(df_timer_reset(self, 1.0), 0);
  df_timer_cancel(self);
  CU_ASSERT_EQUAL(df_timer_reset(self, 1.0), DF_EINVAL);
}

static void test_s29_cancel_inside_own_function_undoes_reset(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *t;
  df_call_later(&t, r, 1.0, reset_then_cancel, &t);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 5.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("ran"));
  dft_reactor_end(r);
}

/* Another timer of the same round is reset to later: it leaves the round. */
static df_timer *postponed;

static void postpone_other(void *arg) {
  dft_trace_arg(arg);
  CU_ASSERT_EQUAL(df_timer_reset(postponed, 2.0), 0);
}

static void test_s29_reset_of_timer_due_in_same_round(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_call_later(NULL, r, 1.0, postpone_other, DFT_S("first"));
  df_call_later(&postponed, r, 1.0, dft_trace_arg, DFT_S("postponed"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 2.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first postponed"));
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ snapshot */

static df_reactor *snap_reactor;

static void schedule_zero(void *arg) {
  dft_trace_arg(arg);
  df_call_later(NULL, snap_reactor, 0.0, dft_trace_arg, DFT_S("scheduled"));
}

/* A timer scheduled by a timer, due at once, waits for the next round. */
static void test_s29_timer_scheduled_in_round_waits_for_next_round(void) {
  df_reactor *r = dft_reactor_begin(true);
  snap_reactor = r;
  df_call_later(NULL, r, 0.0, schedule_zero, DFT_S("first"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first scheduled"));
  dft_reactor_end(r);
}

/* advance() runs them in a batch of their own, like task.Clock.advance. */
static void test_s29_advance_runs_timers_scheduled_while_advancing(void) {
  df_reactor *r = dft_reactor_begin(true);
  snap_reactor = r;
  df_call_later(NULL, r, 1.0, schedule_zero, DFT_S("first"));
  df_call_later(NULL, r, 2.0, dft_trace_arg, DFT_S("second"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 2.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("first second scheduled"));
  dft_reactor_end(r);
}

static df_timer *forever;

static void reschedule_now(void *arg) {
  (void)arg;
  df_timer_reset(forever, 0.0);
}

static void test_s29_advance_is_bounded(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_call_later(&forever, r, 0.0, reschedule_now, NULL);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 0.0), DF_EAGAIN);
  CU_ASSERT_EQUAL(df_reactor_free(r), DF_EBUSY);
  df_timer_cancel(forever);
  dft_reactor_end(r);
}

/* ------------------------------------------------------------ clock */

static void test_s29_manual_clock_moves_only_by_advance(void) {
  df_reactor *r = dft_reactor_begin(true);
  CU_ASSERT_DOUBLE_EQUAL(df_reactor_now(r), 0.0, 1e-12);
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_DOUBLE_EQUAL(df_reactor_now(r), 0.0, 1e-12);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 2.5), 0);
  CU_ASSERT_DOUBLE_EQUAL(df_reactor_now(r), 2.5, 1e-9);
  /* A round never waits for a timer on a manual clock. */
  df_call_later(NULL, r, 1.0, dft_trace_arg, DFT_S("t"));
  CU_ASSERT_EQUAL(df_reactor_run_once(r, 0), 0);
  CU_ASSERT_TRUE(dft_trace_equals(""));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_TRUE(dft_trace_equals("t"));
  dft_reactor_end(r);
}

static void test_s29_far_deadlines_are_clamped(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *huge;
  df_call_later(&huge, r, 1e300, dft_trace_arg, DFT_S("huge"));
  df_timer *inf;
  df_call_later(&inf, r, INFINITY, dft_trace_arg, DFT_S("inf"));
  CU_ASSERT_PTR_NOT_NULL(huge);
  CU_ASSERT_PTR_NOT_NULL(inf);
  df_call_later(NULL, r, 1e9, dft_trace_arg, DFT_S("billion"));
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1e9), 0);
  CU_ASSERT_TRUE(dft_trace_equals("billion"));
  /* The clock itself clamps too; the clamped timers then run in order. */
  CU_ASSERT_EQUAL(df_reactor_advance(r, INFINITY), 0);
  CU_ASSERT_TRUE(dft_trace_equals("billion huge inf"));
  dft_reactor_end(r);
}

static void test_s29_call_later_bad_arguments(void) {
  df_reactor *r = dft_reactor_begin(true);
  df_timer *t = (df_timer *)r; /* must be reset to NULL */
  CU_ASSERT_EQUAL(df_call_later(&t, NULL, 1.0, dft_trace_arg, NULL), DF_EINVAL);
  CU_ASSERT_PTR_NULL(t);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, 1.0, NULL, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, -0.5, dft_trace_arg, NULL), DF_EINVAL);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, NAN, dft_trace_arg, NULL), DF_EINVAL);
  dft_alloc_fail_nth(1);
  CU_ASSERT_EQUAL(df_call_later(NULL, r, 1.0, dft_trace_arg, NULL), DF_ENOMEM);
  dft_alloc_fail_none();
  CU_ASSERT_EQUAL(df_reactor_advance(NULL, 1.0), DF_EINVAL);
  CU_ASSERT_EQUAL(df_reactor_advance(r, -1.0), DF_EINVAL);
  dft_reactor_end(r);
}

static df_reactor *nested_reactor;
static int nested_rc;

static void advance_inside(void *arg) {
  (void)arg;
  nested_rc = df_reactor_advance(nested_reactor, 1.0);
}

static void test_s29_advance_inside_a_timer_is_busy(void) {
  df_reactor *r = dft_reactor_begin(true);
  nested_reactor = r;
  nested_rc = 0;
  df_call_later(NULL, r, 1.0, advance_inside, NULL);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), 0);
  CU_ASSERT_EQUAL(nested_rc, DF_EBUSY);
  dft_reactor_end(r);
}

static void test_s29_advance_needs_a_manual_clock(void) {
  df_reactor *r = dft_reactor_begin(false);
  CU_ASSERT_EQUAL(df_reactor_advance(r, 1.0), DF_EINVAL);
  dft_reactor_end(r);
}

/* The system clock, end to end: callLater(short, count), callLater(longer,
 * stop), run. Only the order is asserted, never a duration. */
static df_reactor *real_reactor;

static void stop_reactor(void *arg) {
  dft_trace_arg(arg);
  df_reactor_stop(real_reactor);
}

static void test_s29_system_clock_call_later_then_stop(void) {
  df_reactor *r = dft_reactor_begin(false);
  real_reactor = r;
  double start = df_reactor_now(r);
  df_call_later(NULL, r, 0.02, stop_reactor, DFT_S("stop"));
  df_call_later(NULL, r, 0.01, dft_trace_arg, DFT_S("data"));
  df_call_later(NULL, r, 0.0, dft_trace_arg, DFT_S("now"));
  CU_ASSERT_EQUAL(df_reactor_run(r), 0);
  CU_ASSERT_TRUE(dft_trace_equals("now data stop"));
  CU_ASSERT_TRUE(df_reactor_now(r) >= start + 0.02);
  dft_reactor_end(r);
}

static CU_TestInfo tests[] = {
    {"s29_timers_run_in_deadline_order", test_s29_timers_run_in_deadline_order},
    {"s29_equal_deadlines_run_in_scheduling_order",
     test_s29_equal_deadlines_run_in_scheduling_order},
    {"s29_heap_order_with_cancels", test_s29_heap_order_with_cancels},
    {"s29_cancelled_timer_never_runs", test_s29_cancelled_timer_never_runs},
    {"s29_cancel_of_timer_due_in_same_round",
     test_s29_cancel_of_timer_due_in_same_round},
    {"s29_reset_moves_the_deadline", test_s29_reset_moves_the_deadline},
    {"s29_reset_goes_after_equal_deadlines",
     test_s29_reset_goes_after_equal_deadlines},
    {"s29_reset_bad_arguments", test_s29_reset_bad_arguments},
    {"s29_reset_inside_own_function_repeats",
     test_s29_reset_inside_own_function_repeats},
    {"s29_cancel_inside_own_function_undoes_reset",
     test_s29_cancel_inside_own_function_undoes_reset},
    {"s29_reset_of_timer_due_in_same_round",
     test_s29_reset_of_timer_due_in_same_round},
    {"s29_timer_scheduled_in_round_waits_for_next_round",
     test_s29_timer_scheduled_in_round_waits_for_next_round},
    {"s29_advance_runs_timers_scheduled_while_advancing",
     test_s29_advance_runs_timers_scheduled_while_advancing},
    {"s29_advance_is_bounded", test_s29_advance_is_bounded},
    {"s29_manual_clock_moves_only_by_advance",
     test_s29_manual_clock_moves_only_by_advance},
    {"s29_far_deadlines_are_clamped", test_s29_far_deadlines_are_clamped},
    {"s29_call_later_bad_arguments", test_s29_call_later_bad_arguments},
    {"s29_advance_inside_a_timer_is_busy",
     test_s29_advance_inside_a_timer_is_busy},
    {"s29_advance_needs_a_manual_clock", test_s29_advance_needs_a_manual_clock},
    {"s29_system_clock_call_later_then_stop",
     test_s29_system_clock_call_later_then_stop},
    CU_TEST_INFO_NULL,
};

int main(void) { return dft_main("timers", tests); }
