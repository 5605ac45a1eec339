/* Deferreds driven by reactor timers (S29): df_sleep (Twisted's deferLater)
 * and df_add_timeout (Twisted's Deferred.addTimeout).
 *
 * Ownership: a pending timer holds a reference to the Deferred it will act
 * on (house rule: pending machinery holds what it will fire), so a Deferred
 * is never freed under an armed timer, and callbacks still run when the
 * caller dropped its reference. The timer's reference goes when the timer
 * fires or is disarmed. */
#include <math.h>
#include <stdbool.h>

#include "deferred/reactor.h"
#include "internal.h"

/* ---------------------------------------------------------------- sleep */

typedef struct sleep_state {
  df_deferred *d; /* the timer's reference */
  df_timer *timer;
} sleep_state;

static void sleep_done(void *arg) {
  sleep_state *s = arg;
  df_deferred *d = s->d;
  (void)df_callback(d, NULL, NULL);
  df__free(s);
  df_unref(d);
}

/* Cancel stops the timer; df_cancel() then fails the Deferred with
 * DF_CANCELLED. df_cancel() holds a reference of its own, so dropping the
 * timer's here is safe. */
static void sleep_cancel(df_deferred *d, void *arg) {
  sleep_state *s = arg;
  df_timer_cancel(s->timer);
  df__free(s);
  df_unref(d);
}

static bool valid_seconds(double seconds) {
  return !isnan(seconds) && seconds >= 0.0;
}

df_deferred *df_sleep(df_reactor *r, double seconds) {
  sleep_state *s;
  df_deferred *d;
  if (r == NULL)
    return df_fail_now(
        df_failure_new(&DF_INVALID_ARGUMENT, 0, "df_sleep: r is NULL"));
  if (!valid_seconds(seconds))
    return df_fail_now(df_failure_new(
        &DF_INVALID_ARGUMENT, 0, "df_sleep: seconds is %g, not >= 0", seconds));
  s = df__malloc(sizeof *s);
  if (s == NULL)
    return NULL;
  d = df_deferred_new(sleep_cancel, s);
  if (d == NULL) {
    df__free(s);
    return NULL;
  }
  s->d = df_ref(d);
  df_call_later(&s->timer, r, seconds, sleep_done, s);
  if (s->timer == NULL) {
    df__free(s);
    df_unref(d);
    df_unref(d);
    return NULL;
  }
  return d;
}

/* ---------------------------------------------------------------- timeout */

/* Shared by the timer and the two steps; freed when all three let go. */
typedef struct timeout_state {
  df_deferred *d;  /* the timer's reference; NULL once fired or disarmed */
  df_timer *timer; /* NULL once fired or disarmed */
  df_timeout_cancel_fn on_timeout;
  void *on_timeout_arg;
  double seconds;
  int refs;
  bool timed_out;
} timeout_state;

static void state_release(void *arg) {
  timeout_state *s = arg;
  if (--s->refs == 0)
    df__free(s);
}

/* Gives up the timer's share: its handle and its reference to the Deferred.
 * The caller holds a reference of its own (a running chain does), so the
 * Deferred outlives this. */
static void disarm(timeout_state *s) {
  df_deferred *d = s->d;
  if (s->timer == NULL)
    return;
  df_timer_cancel(s->timer);
  s->timer = NULL;
  s->d = NULL;
  df_unref(d);
  state_release(s);
}

static void timeout_fired(void *arg) {
  timeout_state *s = arg;
  df_deferred *d = s->d;
  s->timer = NULL; /* the handle is going away with this call */
  s->d = NULL;
  s->timed_out = true;
  df_cancel(d);
  df_unref(d);
  state_release(s);
}

static int timeout_ms(double seconds) {
  double ms = seconds * 1000.0 + 0.5;
  return ms >= 2147483647.0 ? 2147483647 : (int)ms;
}

/* Twisted's _cancelledToTimedOutError: a DF_CANCELLED failure becomes a
 * DF_TIMEOUT; anything else passes unchanged. */
static df_result cancelled_to_timeout(df_result in, double seconds, void *arg) {
  (void)arg;
  if (!df_result_is_failure(in) ||
      df_failure_check(df_result_failure(in), &DF_CANCELLED, NULL) == NULL)
    return in;
  df_result_free(in);
  return df_fail(df_failure_new(&DF_TIMEOUT, timeout_ms(seconds),
                                "Deferred timed out after %g seconds",
                                seconds));
}

/* First step: converts only when this timeout's timer fired. */
static df_result convert_step(df_result in, void *arg) {
  timeout_state *s = arg;
  if (!s->timed_out)
    return in;
  return s->on_timeout(in, s->seconds, s->on_timeout_arg);
}

/* Second step: the chain got here, so the timer has nothing left to do. */
static df_result disarm_step(df_result in, void *arg) {
  disarm(arg);
  return in;
}

df_deferred *df_add_timeout_full(df_deferred *d, df_reactor *r, double seconds,
                                 df_timeout_cancel_fn on_timeout, void *arg) {
  timeout_state *s;
  if (d == NULL || r == NULL || !valid_seconds(seconds))
    return NULL;
  s = df__calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->on_timeout = on_timeout != NULL ? on_timeout : cancelled_to_timeout;
  s->on_timeout_arg = arg;
  s->seconds = seconds;
  df_call_later(&s->timer, r, seconds, timeout_fired, s);
  if (s->timer == NULL) {
    df__free(s);
    return NULL;
  }
  s->d = df_ref(d);
  s->refs = 3; /* the timer and the two steps */
  /* On failure the adder has already released that step's share. */
  if (df_add_callbacks_full(d, convert_step, s, convert_step, s,
                            state_release) == NULL) {
    s->refs--; /* the disarm step will never exist */
    disarm(s);
    return NULL;
  }
  if (df_add_callbacks_full(d, disarm_step, s, disarm_step, s, state_release) ==
      NULL) {
    /* The converter stays in the chain and passes everything through. */
    disarm(s);
    return NULL;
  }
  return d;
}

df_deferred *df_add_timeout(df_deferred *d, df_reactor *r, double seconds) {
  return df_add_timeout_full(d, r, seconds, NULL, NULL);
}
