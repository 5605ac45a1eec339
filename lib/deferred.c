/* The Deferred: a result slot, a queue of steps, and the loop that runs them.
 *
 * The loop is Twisted's _runCallbacks: iterative, with an explicit stack of
 * the Deferreds whose chains are being resumed, so that a chain of a million
 * Deferreds waiting on each other fires at constant C stack depth (S26).
 *
 * Memory: one allocation of 120 bytes holds a Deferred with up to four
 * one-slot steps; longer chains spill into one growable array.
 */
#include <string.h>

#include "deferred-inl.h"
#include "internal.h"

/* ------------------------------------------------------------ run stack */

/* The Deferreds whose chains this run resumes, each holding a reference.
 * The low bit of an entry marks one interrupted in the middle of its chain
 * by df_chain(): it resumes even if paused meanwhile, as Twisted's nested
 * callback() would. */
#define STACK_INLINE 16
#define MID_RUN ((uintptr_t)1)

struct run_stack {
  uintptr_t *items;
  size_t n, cap;
  uintptr_t inline_items[STACK_INLINE];
};

static bool stack_reserve(struct run_stack *st) {
  if (st->n < st->cap)
    return true;
  size_t cap = st->cap * 2;
  uintptr_t *items;
  if (st->items == st->inline_items) {
    items = df__malloc(cap * sizeof *items);
    if (items != NULL)
      memcpy(items, st->items, st->n * sizeof *items);
  } else {
    items = df__realloc(st->items, cap * sizeof *items);
  }
  if (items == NULL)
    return false;
  st->items = items;
  st->cap = cap;
  return true;
}

static inline df_deferred *entry(uintptr_t item) {
  return (df_deferred *)(item & ~MID_RUN);
}

static void run_callbacks(df_deferred *d);

/* ------------------------------------------------------------ failures */

static df_result misuse_failure(df_result in, const char *what) {
  df_failure *cause = df_result_failure(in);
  df_failure *f =
      df_failure_new_caused(&DF_INVALID_ARGUMENT, 0, cause, "%s", what);
  df_result_free(in);
  return df_fail(f);
}

/* The innermost Deferred of a waiting chain that starts at d. */
static df_deferred *innermost(df_deferred *d) {
  while (is_waiting(d))
    d = d->res_ptr;
  return d;
}

/* cur's callback returned a Deferred (S26): take its result if it has one,
 * otherwise make cur wait on it. \return false when cur now waits. */
static bool adopt_returned(df_deferred *cur, df_result out) {
  df_deferred *inner = out.ptr;

  if (inner == NULL) {
    set_result(cur, misuse_failure(EMPTY, "callback returned a NULL Deferred"));
    return true;
  }
  /* S27: waiting on itself would hang. A cycle through cur needs something
   * waiting on cur, so only then is the waiting chain walked: building a
   * long chain stays linear. */
  if (inner == cur ||
      ((cur->flags & F_WAITED_ON) && innermost(inner) == cur)) {
    df_unref(inner);
    set_result(cur, misuse_failure(EMPTY, "callback returned the Deferred it "
                                          "is attached to, directly or "
                                          "through a cycle of waits"));
    return true;
  }
  if (!(inner->flags & F_CALLED) || is_paused(inner) ||
      (inner->flags & F_RUNNING)) {
    if (push_one(inner, K_CONTINUE, NULL, cur) != 0) {
      df_unref(inner);
      set_result(cur, df_fail(df_failure_new(&DF_NO_MEMORY, DF_ENOMEM,
                                             "cannot wait on a Deferred")));
      return true;
    }
    df_ref(cur); /* held by the K_CONTINUE step */
    inner->flags |= F_WAITED_ON;
    set_result(cur, out);
    return false;
  }
  set_result(cur, take_result(inner)); /* steal (R5.1) */
  df_unref(inner);
  return true;
}

/* ------------------------------------------------------------ the loop */

/* What a step did to the run: cur goes on, cur now waits (its part of the
 * run is over), or another Deferred is now on top of the stack (cur must
 * not be touched: it may be gone). */
enum step_outcome { STEP_NEXT, STEP_WAIT, STEP_TOP };

/* K_CONTINUE: cur's result goes to the Deferred waiting on it, which then
 * resumes on top of the stack. cur stays below it only if it has steps
 * left (R5.5); otherwise the waiter simply takes its place. */
static enum step_outcome hand_off(df_deferred *cur, df_deferred *waiter,
                                  struct run_stack *st) {
  set_result(waiter, take_result(cur));
  df_unref(cur); /* the waiter's reference; the stack still holds one */
  if (!has_steps(cur)) {
    st->items[st->n - 1] = (uintptr_t)waiter; /* the step's reference */
    df_unref(cur);                            /* the stack's reference */
    return STEP_TOP;
  }
  if (stack_reserve(st)) {
    st->items[st->n++] = (uintptr_t)waiter;
    return STEP_TOP;
  }
  /* No memory for a deeper stack: resume the waiter by recursion instead,
   * which runs the same steps in the same order. */
  run_callbacks(waiter);
  df_unref(waiter);
  return STEP_NEXT;
}

/* Marks d fired with r and records where, for debug mode. */
static void mark_fired(df_deferred *d, df_result r, const char *file,
                       int line) {
  d->flags |= F_CALLED;
  set_result(d, r);
  df_debug_info *info = debug_info(d);
  if (DF__UNLIKELY(info != NULL) && info->fired_file == NULL) {
    info->fired_file = file;
    info->fired_line = line;
  }
}

static int refuse_second_fire(df_deferred *d, df_result r, const char *file,
                              int line) {
  df_result_free(r);
  if (d->flags & F_SUPPRESS) { /* S17: the late result of a cancelled op */
    d->flags &= (uint16_t)~F_SUPPRESS;
    return 0;
  }
  if (df__debugging)
    df__report_already_called(debug_info(d), file, line);
  return DF_EALREADY;
}

/* K_CHAIN (S28): fire other with cur's result; cur goes on with NULL. */
static enum step_outcome chain_into(df_deferred *cur, df_deferred *other,
                                    struct run_stack *st) {
  df_result r = take_result(cur);

  if (other->flags & F_CALLED) {
    df_failure *cause = df_result_failure(r);
    if (refuse_second_fire(other, df_ok(NULL, NULL), __FILE__, __LINE__) != 0)
      set_result(cur, df_fail(df_failure_new_caused(
                          &DF_ALREADY_CALLED, DF_EALREADY, cause,
                          "chained Deferred was already fired")));
    df_result_free(r);
    df_unref(other);
    return STEP_NEXT;
  }
  if (other->paused != 0 || (other->flags & F_RUNNING) || !stack_reserve(st)) {
    mark_fired(other, r, __FILE__, __LINE__);
    cur->flags |= F_RUNNING; /* steps added to cur meanwhile wait their turn */
    run_callbacks(other);
    cur->flags &= (uint16_t)~F_RUNNING;
    df_unref(other);
    return STEP_NEXT;
  }
  mark_fired(other, r, __FILE__, __LINE__);
  cur->flags |= F_RUNNING; /* as during Twisted's nested callback() */
  st->items[st->n - 1] |= MID_RUN;
  st->items[st->n++] = (uintptr_t)other; /* the step's reference */
  return STEP_TOP;
}

static enum step_outcome run_special(df_deferred *cur, const struct step *s,
                                     struct run_stack *st) {
  if (s->kind & K_CONTINUE)
    return hand_off(cur, s->cb_arg, st);
  if (s->kind & K_CHAIN)
    return chain_into(cur, s->cb_arg, st);
  set_result(cur, misuse_failure(take_result(cur), s->cb_arg));
  return STEP_NEXT;
}

/* The general path: pairs, destructors and the special steps. The result
 * is in cur's slot on entry and on return. */
static enum step_outcome run_general_step(df_deferred *cur,
                                          struct run_stack *st) {
  struct step s;
  if (!pop_step(cur, &s))
    return STEP_NEXT;
  if (s.kind & K_SPECIAL)
    return run_special(cur, &s, st);

  bool failed = d_is_failed(cur);
  df_callback_fn fn = failed ? s.eb : s.cb;
  if (fn != NULL) {
    df_result in = take_result(cur);
    cur->flags |= F_RUNNING;
    df_result out = fn(in, failed ? s.eb_arg : s.cb_arg);
    cur->flags &= (uint16_t)~F_RUNNING;
    free_step_args(&s);
    if (out.free == df_deferred_release)
      return adopt_returned(cur, out) ? STEP_NEXT : STEP_WAIT;
    set_result(cur, out);
  } else {
    free_step_args(&s);
  }
  return STEP_NEXT;
}

enum run_outcome { RUN_DONE, RUN_TOP_CHANGED };

/* Runs cur's steps until they run out, cur waits, or another Deferred has to
 * run first. One-slot steps, the common case, run on a result held in
 * locals and a cursor kept in registers; the head is stored before every
 * call because an adder that grows the queue reads it. Everything else goes
 * through run_general_step() with the result back in cur's slot. */
static enum run_outcome run_steps(df_deferred *cur, struct run_stack *st) {
  /* Loaded once: the release functions that mark failures and Deferreds. */
  const df_free_fn failure_fn = df_failure_release;
  const df_free_fn deferred_fn = df_deferred_release;
  df_result res = take_result(cur);
  struct cursor c;

  cur->flags |= F_RUNNING;
  for (;;) {
    struct spill *sp = cur->spill;
    unsigned want = res.free == failure_fn ? K_EB : K_CB;
    cursor_load(cur, &c);
    while (c.i < c.n) {
      unsigned kind = c.kinds[c.i];
      if (DF__UNLIKELY(kind > K_BOTH))
        goto general;
      df_callback_fn fn = c.slots[c.i].f.fn;
      void *arg = c.slots[c.i].arg;
      c.i++;
      if (sp != NULL)
        sp->head = c.i;
      else
        cur->head = (uint8_t)c.i;
      if (!(kind & want))
        continue;
      res = fn(res, arg);
      want = res.free == failure_fn ? K_EB : K_CB;
      if (DF__UNLIKELY(res.free == deferred_fn)) {
        cur->flags &= (uint16_t)~F_RUNNING;
        if (!adopt_returned(cur, res))
          return RUN_DONE; /* cur waits: its part of this run is over */
        res = take_result(cur);
        want = res.free == failure_fn ? K_EB : K_CB;
        cur->flags |= F_RUNNING;
      }
      if (DF__UNLIKELY(cur->spill != sp))
        break; /* the callback made the queue spill or grow: reload */
      c.n = sp != NULL ? sp->count : cur->count; /* it may have added */
    }
    if (c.i < c.n || cur->spill != sp)
      continue;
    cursor_reset(cur);
    break;

  general:
    cur->flags &= (uint16_t)~F_RUNNING;
    set_result(cur, res);
    enum step_outcome out = run_general_step(cur, st);
    if (out == STEP_TOP)
      return RUN_TOP_CHANGED;
    if (out == STEP_WAIT)
      return RUN_DONE;
    res = take_result(cur);
    cur->flags |= F_RUNNING;
  }
  cur->flags &= (uint16_t)~F_RUNNING;
  set_result(cur, res);
  return RUN_DONE;
}

/* The top of the stack is paused: as in Twisted, the Deferreds waiting on it
 * wait with it, so the run they belong to ends. That run is the one a
 * df_chain() step started (Twisted's nested callback()): it stops at the
 * entry that step interrupted, which then resumes its own chain. Without
 * such an entry the whole run ends. */
static void drop_paused_run(struct run_stack *st) {
  while (st->n > 0 && !(st->items[st->n - 1] & MID_RUN))
    df_unref(entry(st->items[--st->n]));
}

static void run_callbacks(df_deferred *d) {
  if (d->flags & F_RUNNING)
    return; /* re-entrant: the run above us picks up the new steps */

  struct run_stack st;
  st.items = st.inline_items;
  st.cap = STACK_INLINE;
  st.items[0] = (uintptr_t)df_ref(d);
  st.n = 1;

  while (st.n > 0) {
    uintptr_t top = st.items[st.n - 1];
    df_deferred *cur = entry(top);
    if (top & MID_RUN) {
      st.items[st.n - 1] = (uintptr_t)cur;
      cur->flags &= (uint16_t)~F_RUNNING;
    } else if (is_paused(cur)) {
      drop_paused_run(&st);
      continue;
    }
    if (run_steps(cur, &st) == RUN_DONE) {
      st.n--;
      df_unref(cur);
    }
  }
  if (st.items != st.inline_items)
    df__free(st.items);
}

static inline void run_if_ready(df_deferred *d) {
  if ((d->flags & F_CALLED) && !is_paused(d))
    run_callbacks(d);
}

/* ------------------------------------------------------------ life */

df_deferred *df_deferred_new_at(df_canceller_fn canceller, void *arg,
                                const char *file, int line) {
  df_deferred *d;

  if (DF__LIKELY(!df__debugging)) {
    d = df__malloc(sizeof *d);
    if (d == NULL)
      return NULL;
    d->flags = 0;
  } else {
    struct debug_prefix *p = df__malloc(sizeof *p + sizeof *d);
    if (p == NULL)
      return NULL;
    p->info.created_file = file;
    p->info.created_line = line;
    p->info.fired_file = NULL;
    p->info.fired_line = 0;
    d = (df_deferred *)(void *)(p + 1);
    d->flags = F_DEBUG;
  }
  d->refs = 1;
  d->head = d->count = 0;
  d->paused = 0;
  d->res_ptr = NULL;
  d->res_free = NULL;
  d->canceller = canceller;
  d->canceller_arg = arg;
  d->spill = NULL;
  return d;
}

df_deferred *df_ref(df_deferred *d) {
  if (d != NULL)
    d->refs++;
  return d;
}

static void destroy(df_deferred *d) {
  if ((d->flags & F_CALLED) && d_is_failed(d))
    df__report_unhandled(d->res_ptr, debug_info(d)); /* S09 */
  df_result_free(take_result(d));

  struct step s;
  while (pop_step(d, &s))
    discard_step(&s);
  df__free(d->spill);
  if (d->flags & F_CANCELLER_OWNS_ARG)
    d->canceller(NULL, d->canceller_arg);
  if (d->flags & F_DEBUG)
    df__free((struct debug_prefix *)(void *)d - 1);
  else
    df__free(d);
}

void df_unref(df_deferred *d) {
  if (d != NULL && --d->refs == 0)
    destroy(d);
}

/* ------------------------------------------------------------ steps */

static df_deferred *add_misuse(df_deferred *d, const char *what) {
  if (push_one(d, K_MISUSE, NULL, (void *)(uintptr_t)what) != 0)
    return NULL;
  run_if_ready(d);
  return d;
}

/* The adders' slow path: spilling, growing, or running a fired chain. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static df_deferred *add_one_slow(df_deferred *d, unsigned kind,
                                 df_callback_fn fn, void *arg) {
  if (push_one(d, kind, fn, arg) != 0)
    return NULL;
  run_if_ready(d);
  return d;
}

/* The adders' fast path: a free slot and an unfired Deferred, with no call
 * that would need a stack frame. */
static inline df_deferred *add_one(df_deferred *d, unsigned kind,
                                   df_callback_fn fn, void *arg) {
  struct spill *sp = d->spill;
  if (DF__UNLIKELY(d->flags & F_CALLED))
    return add_one_slow(d, kind, fn, arg);
  if (sp == NULL) {
    unsigned n = d->count;
    if (DF__UNLIKELY(n >= INLINE_SLOTS))
      return add_one_slow(d, kind, fn, arg);
    d->slots[n].f.fn = fn;
    d->slots[n].arg = arg;
    d->count = (uint8_t)(n + 1);
    d->kinds[n] = (uint8_t)kind;
  } else {
    uint32_t n = sp->count;
    if (DF__UNLIKELY(n >= sp->cap))
      return add_one_slow(d, kind, fn, arg);
    uint8_t *kinds = sp->kinds;
    sp->slots[n].f.fn = fn;
    sp->slots[n].arg = arg;
    sp->count = n + 1;
    kinds[n] = (uint8_t)kind;
  }
  return d;
}

df_deferred *df_add_callbacks(df_deferred *d, df_callback_fn cb, void *cb_arg,
                              df_callback_fn eb, void *eb_arg) {
  if (d == NULL || (cb == NULL && eb == NULL))
    return NULL;
  if (eb == NULL)
    return add_one(d, K_CB, cb, cb_arg);
  if (cb == NULL)
    return add_one(d, K_EB, eb, eb_arg);
  if (cb == eb && cb_arg == eb_arg)
    return add_one(d, K_BOTH, cb, cb_arg);

  const uint8_t kinds[2] = {K_PAIR, K_EB};
  struct slot slots[2];
  slots[0].f.fn = cb;
  slots[0].arg = cb_arg;
  slots[1].f.fn = eb;
  slots[1].arg = eb_arg;
  if (push_step(d, kinds, slots, 2) != 0)
    return NULL;
  run_if_ready(d);
  return d;
}

df_deferred *df_add_callbacks_full(df_deferred *d, df_callback_fn cb,
                                   void *cb_arg, df_callback_fn eb,
                                   void *eb_arg, df_arg_free_fn arg_free) {
  if (arg_free == NULL)
    return df_add_callbacks(d, cb, cb_arg, eb, eb_arg);

  struct step s = {K_PAIR | K_FREE, cb, eb, cb_arg, eb_arg, arg_free};
  if (d == NULL || (cb == NULL && eb == NULL)) {
    free_step_args(&s);
    return NULL;
  }
  uint8_t kinds[3];
  struct slot slots[3];
  unsigned n = 0;
  if (cb == eb && cb_arg == eb_arg) {
    kinds[n] = K_BOTH | K_FREE;
    slots[n].f.fn = cb;
    slots[n++].arg = cb_arg;
  } else {
    kinds[n] = K_PAIR | K_FREE;
    slots[n].f.fn = cb;
    slots[n++].arg = cb_arg;
    kinds[n] = K_EB;
    slots[n].f.fn = eb;
    slots[n++].arg = eb_arg;
  }
  kinds[n] = 0;
  slots[n].f.arg_free = arg_free;
  slots[n++].arg = NULL;
  if (push_step(d, kinds, slots, n) != 0) {
    free_step_args(&s);
    return NULL;
  }
  run_if_ready(d);
  return d;
}

df_deferred *df_add_callback(df_deferred *d, df_callback_fn cb, void *arg) {
  if (DF__UNLIKELY(d == NULL))
    return NULL;
  if (DF__UNLIKELY(cb == NULL))
    return add_misuse(d, "df_add_callback: cb is NULL");
  return add_one(d, K_CB, cb, arg);
}

df_deferred *df_add_errback(df_deferred *d, df_callback_fn eb, void *arg) {
  if (d == NULL)
    return NULL;
  if (eb == NULL)
    return add_misuse(d, "df_add_errback: eb is NULL");
  return df_add_callbacks(d, NULL, NULL, eb, arg);
}

df_deferred *df_add_both(df_deferred *d, df_callback_fn fn, void *arg) {
  if (d == NULL)
    return NULL;
  if (fn == NULL)
    return add_misuse(d, "df_add_both: fn is NULL");
  return df_add_callbacks(d, fn, arg, fn, arg);
}

df_deferred *df_chain(df_deferred *d, df_deferred *other) {
  if (d == NULL || other == NULL || d == other)
    return NULL;
  if (push_one(d, K_CHAIN, NULL, other) != 0)
    return NULL;
  df_ref(other); /* held by the K_CHAIN step */
  run_if_ready(d);
  return d;
}

/* ------------------------------------------------------------ firing */

int df_fire_at(df_deferred *d, df_result r, const char *file, int line) {
  if (DF__UNLIKELY(d == NULL || r.free == df_deferred_release ||
                   (is_failure(r) && r.ptr == NULL))) {
    df_result_free(r);
    return DF_EINVAL;
  }
  if (DF__UNLIKELY(d->flags & F_CALLED))
    return refuse_second_fire(d, r, file, line);
  mark_fired(d, r, file, line);
  run_if_ready(d);
  return 0;
}

/* A Deferred already fired with r; frees r when none can be made. */
static df_deferred *fired_with(df_result r) {
  df_deferred *d = df_deferred_new_at(NULL, NULL, NULL, 0);
  if (d == NULL) {
    df_result_free(r);
    return NULL;
  }
  mark_fired(d, r, NULL, 0);
  return d;
}

df_deferred *df_succeed(void *value, df_free_fn free) {
  return fired_with(df_ok(value, free));
}

df_deferred *df_fail_now(df_failure *f) { return fired_with(df_fail(f)); }

df_deferred *df_maybe(df_maybe_fn fn, void *arg) {
  if (fn == NULL)
    return df_fail_now(
        df_failure_new(&DF_INVALID_ARGUMENT, 0, "df_maybe: fn is NULL"));
  df_result r = fn(arg);
  if (r.free == df_deferred_release) {
    if (r.ptr != NULL)
      return r.ptr; /* R10.4: the same Deferred, with the result's reference */
    r = misuse_failure(EMPTY, "df_maybe: fn returned a NULL Deferred");
  }
  return fired_with(r);
}

/* ------------------------------------------------------------ control */

void df__set_canceller_decides(df_deferred *d) {
  d->flags |= F_CANCELLER_DECIDES;
}

void df__set_canceller_owns_arg(df_deferred *d) {
  d->flags |= F_CANCELLER_OWNS_ARG;
}

void df_cancel(df_deferred *d) {
  if (d == NULL)
    return;
  if (d->flags & F_CALLED) {
    if (!is_waiting(d))
      return; /* S18 */
    d = innermost(d); /* S19, R7.9 */
    if (d->flags & F_CALLED)
      return; /* fired but paused: nothing to cancel (R7.6) */
  }
  df_ref(d);
  if (d->canceller != NULL)
    d->canceller(d, d->canceller_arg);
  else
    d->flags |= F_SUPPRESS;
  if (!(d->flags & F_CALLED) && !(d->flags & F_CANCELLER_DECIDES))
    df_fire(d, df_fail(df_failure_new(&DF_CANCELLED, 0,
                                      "Deferred was cancelled")));
  df_unref(d);
}

int df_pause(df_deferred *d) {
  if (d == NULL)
    return DF_EINVAL;
  d->paused++;
  return 0;
}

int df_unpause(df_deferred *d) {
  if (d == NULL)
    return DF_EINVAL;
  if (d->paused == 0)
    return DF_ENOTPAUSED;
  if (--d->paused == 0)
    run_if_ready(d);
  return 0;
}

/* ------------------------------------------------------------ state */

bool df_called(const df_deferred *d) {
  return d != NULL && (d->flags & F_CALLED);
}

bool df_waiting(const df_deferred *d) { return d != NULL && is_waiting(d); }

bool df_peek(const df_deferred *d, df_result *out) {
  if (d == NULL || out == NULL || !(d->flags & F_CALLED) || is_waiting(d) ||
      (d->flags & F_RUNNING))
    return false;
  *out = get_result(d);
  return true;
}
