/* The Deferred: a result slot, a queue of steps, and the loop that runs them.
 *
 * The loop is Twisted's _runCallbacks: iterative, with an explicit stack of
 * the Deferreds whose chains are being resumed, so that a chain of a million
 * Deferreds waiting on each other fires at constant C stack depth (S26).
 *
 * Memory: one allocation of 128 bytes holds a Deferred with up to four
 * one-slot steps; longer chains move to one growable array (steps.c). A
 * layer that recycles its Deferreds' memory places them in blocks of its
 * own instead (placed.h).
 */
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "deferred-inl.h"
#include "internal.h"
#include "placed.h"

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
  if (inner == cur || ((cur->flags & F_WAITED_ON) && innermost(inner) == cur)) {
    df_unref(inner);
    set_result(cur, misuse_failure(EMPTY, "callback returned the Deferred it "
                                          "is attached to, directly or "
                                          "through a cycle of waits"));
    return true;
  }
  if (!(inner->flags & F_CALLED) || is_paused(inner) ||
      (inner->flags & F_RUNNING)) {
    if (steps_append(&inner->steps, K_CONTINUE, NULL, cur,
                     may_compact(inner)) != 0) {
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
  if (!steps_pending(&cur->steps)) {
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
  if (!steps_pop(&cur->steps, &s))
    return STEP_NEXT;
  if (s.kind & K_SPECIAL)
    return run_special(cur, &s, st);

  bool failed = is_failure(get_result(cur));
  df_callback_fn fn = failed ? s.eb : s.cb;
  if (fn != NULL) {
    df_result in = take_result(cur);
    cur->flags |= F_RUNNING;
    df_result out = fn(in, failed ? s.eb_arg : s.cb_arg);
    cur->flags &= (uint16_t)~F_RUNNING;
    steps_free_args(&s);
    if (out.free == df_deferred_release)
      return adopt_returned(cur, out) ? STEP_NEXT : STEP_WAIT;
    set_result(cur, out);
  } else {
    steps_free_args(&s);
  }
  return STEP_NEXT;
}

enum run_outcome { RUN_DONE, RUN_TOP_CHANGED };

/* Why run_one_slot_steps() stopped. */
enum fast_exit {
  FAST_END,     /* no step left */
  FAST_GENERAL, /* the next step is not a one-slot callback or errback */
  FAST_SWITCH,  /* the result turned from value to failure or back */
  FAST_WAIT,    /* a callback returned a Deferred */
  FAST_GREW     /* a callback added steps to cur, maybe moving the array */
};

/* The hot loop: one-slot steps on a result held in registers, with \p want
 * (K_CB on a value, K_EB on a failure) a constant of each inlined copy. The
 * queue's head is stored only when the loop stops: while cur runs nothing
 * moves its steps (an adder may grow the array but never compacts it, see
 * may_compact()), and the count is read again after each call because an
 * adder may have appended. */
static inline enum fast_exit run_one_slot_steps(struct steps *q, df_result *res,
                                                unsigned want) {
  const uint8_t *kinds = steps_kinds(q);
  const struct slot *slots = q->slots;
  uint32_t i = q->head;
  uint32_t n = q->count;
  df_result r = *res;
  enum fast_exit why = FAST_END;

  while (i < n) {
    unsigned kind = kinds[i];
    if (!(kind & want)) {
      if (DF__UNLIKELY(kind > K_BOTH)) {
        why = FAST_GENERAL;
        break;
      }
      i++; /* a callback on a failure, or an errback on a value */
      continue;
    }
    df_callback_fn fn = slots[i].f.fn;
    void *arg = slots[i].arg;
    i++;
    r = fn(r, arg);
    if (DF__UNLIKELY(r.free == df_deferred_release)) {
      why = FAST_WAIT;
      break;
    }
    if (DF__UNLIKELY(is_failure(r) != (want == K_EB))) {
      why = FAST_SWITCH;
      break;
    }
    if (DF__UNLIKELY(q->count != n)) {
      why = FAST_GREW;
      break;
    }
  }
  q->head = i;
  *res = r;
  return why;
}

/* Runs cur's steps until they run out, cur waits, or another Deferred has to
 * run first. One-slot steps go through the hot loop; everything else through
 * run_general_step() with the result back in cur's slot. */
static enum run_outcome run_steps(df_deferred *cur, struct run_stack *st) {
  struct steps *q = &cur->steps;
  df_result res = take_result(cur);

  cur->flags |= F_RUNNING;
  for (;;) {
    enum fast_exit why = is_failure(res) ? run_one_slot_steps(q, &res, K_EB)
                                         : run_one_slot_steps(q, &res, K_CB);
    if (DF__LIKELY(why == FAST_END)) {
      steps_reset(q);
      break;
    }
    if (why == FAST_GREW)
      steps_compact_ran(q); /* the loop stored the head; none holds it */
    if (why == FAST_SWITCH || why == FAST_GREW)
      continue;
    cur->flags &= (uint16_t)~F_RUNNING;
    if (why == FAST_WAIT) {
      if (!adopt_returned(cur, res))
        return RUN_DONE; /* cur waits: its part of this run is over */
    } else {
      set_result(cur, res);
      enum step_outcome out = run_general_step(cur, st);
      if (out == STEP_TOP)
        return RUN_TOP_CHANGED;
      if (out == STEP_WAIT)
        return RUN_DONE;
    }
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

/* The caller's storage of df_deferred_new_with_storage_at() follows the
 * Deferred in the same block, at an offset fit for any object. */
#define STORAGE_OFFSET                                                         \
  ((sizeof(df_deferred) + _Alignof(max_align_t) - 1) &                         \
   ~(_Alignof(max_align_t) - 1))

static df_deferred *init_deferred(df_deferred *d, unsigned flags,
                                  df_canceller_fn canceller, void *arg) {
  d->refs = 1;
  d->flags = (uint16_t)flags;
  d->paused = 0;
  d->res_ptr = NULL;
  d->res_free = NULL;
  d->canceller = canceller;
  d->canceller_arg = arg;
  steps_init(&d->steps);
  return d;
}

static df_deferred *new_deferred(df_canceller_fn canceller, void *arg,
                                 size_t extra, const char *file, int line) {
  size_t size = extra == 0 ? sizeof(df_deferred) : STORAGE_OFFSET + extra;
  if (DF__LIKELY(!df__debugging)) {
    df_deferred *d = df__malloc(size);
    return d != NULL ? init_deferred(d, 0, canceller, arg) : NULL;
  }
  struct debug_prefix *p = df__malloc(sizeof *p + size);
  if (p == NULL)
    return NULL;
  p->info.created_file = file;
  p->info.created_line = line;
  p->info.fired_file = NULL;
  p->info.fired_line = 0;
  return init_deferred((df_deferred *)(void *)(p + 1), F_DEBUG, canceller, arg);
}

df_deferred *df_deferred_new_at(df_canceller_fn canceller, void *arg,
                                const char *file, int line) {
  return new_deferred(canceller, arg, 0, file, line);
}

df_deferred *df_deferred_new_with_storage_at(df_canceller_fn canceller,
                                             size_t size, void **storage,
                                             const char *file, int line) {
  if (storage == NULL)
    return NULL;
  *storage = NULL;
  if (size > SIZE_MAX - STORAGE_OFFSET - sizeof(struct debug_prefix))
    return NULL;
  df_deferred *d =
      new_deferred(canceller, NULL, size == 0 ? 1 : size, file, line);
  if (d == NULL)
    return NULL;
  *storage = (char *)d + STORAGE_OFFSET;
  d->canceller_arg = *storage;
  return d;
}

/* placed.h: the Deferred follows its df__placement, at an offset fit for
 * any object. */
#define PLACED_OFFSET                                                          \
  ((sizeof(df__placement) + _Alignof(max_align_t) - 1) &                       \
   ~(_Alignof(max_align_t) - 1))

size_t df__placed_block_size(size_t storage) {
  size_t align = _Alignof(max_align_t);
  if (storage > SIZE_MAX - PLACED_OFFSET - STORAGE_OFFSET - align)
    return 0;
  return (PLACED_OFFSET + STORAGE_OFFSET + storage + align - 1) & ~(align - 1);
}

df_deferred *df__deferred_place(df__placement *block, df_canceller_fn canceller,
                                void **storage) {
  df_deferred *d = (df_deferred *)(void *)((char *)block + PLACED_OFFSET);
  *storage = (char *)d + STORAGE_OFFSET;
  return init_deferred(d, F_PLACED, canceller, *storage);
}

static df__placement *placement_of(df_deferred *d) {
  return (df__placement *)(void *)((char *)d - PLACED_OFFSET);
}

df_deferred *df_ref(df_deferred *d) {
  if (d != NULL)
    d->refs++;
  return d;
}

static void destroy(df_deferred *d) {
  if ((d->flags & F_CALLED) && is_failure(get_result(d)))
    df__report_unhandled(d->res_ptr, debug_info(d)); /* S09 */
  df_result_free(take_result(d));
  steps_release(&d->steps);
  if (d->flags & F_CANCELLER_OWNS_ARG)
    d->canceller(NULL, d->canceller_arg);
  if (d->flags & F_PLACED) {
    df__placement *block = placement_of(d);
    block->release(block);
  } else if (d->flags & F_DEBUG) {
    df__free((struct debug_prefix *)(void *)d - 1);
  } else {
    df__free(d);
  }
}

void df_unref(df_deferred *d) {
  if (d != NULL && --d->refs == 0)
    destroy(d);
}

/* ------------------------------------------------------------ steps */

/* Appends n slots as one step, all or nothing. */
static int append_slots(df_deferred *d, const uint8_t *kinds,
                        const struct slot *slots, unsigned n) {
  if (steps_reserve(&d->steps, n, may_compact(d)) != 0)
    return DF_ENOMEM;
  for (unsigned i = 0; i < n; i++)
    steps_put(&d->steps, kinds[i], slots[i].f.fn, slots[i].arg);
  return 0;
}

/* The adders' slow path: a full queue to grow, or a fired chain to run. */
DF__NOINLINE static df_deferred *add_one_slow(df_deferred *d, unsigned kind,
                                              df_callback_fn fn, void *arg) {
  if (steps_append(&d->steps, kind, fn, arg, may_compact(d)) != 0)
    return NULL;
  run_if_ready(d);
  return d;
}

static df_deferred *add_misuse(df_deferred *d, const char *what) {
  return add_one_slow(d, K_MISUSE, NULL, (void *)(uintptr_t)what);
}

/* The adders' fast path: an unfired Deferred with a free slot. Everything
 * else is one tail call away, so this path needs no stack frame. */
static inline df_deferred *add_one(df_deferred *d, unsigned kind,
                                   df_callback_fn fn, void *arg) {
  struct steps *q = &d->steps;
  if (DF__UNLIKELY((d->flags & F_CALLED) || q->count == q->cap))
    return add_one_slow(d, kind, fn, arg);
  steps_put(q, kind, fn, arg);
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

  const uint8_t kinds[2] = {K_PAIR, 0};
  struct slot slots[2];
  slots[0].f.fn = cb;
  slots[0].arg = cb_arg;
  slots[1].f.fn = eb;
  slots[1].arg = eb_arg;
  if (append_slots(d, kinds, slots, 2) != 0)
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
    steps_free_args(&s);
    return NULL;
  }
  uint8_t kinds[3];
  struct slot slots[3];
  unsigned n = 0;
  if (cb == eb && cb_arg == eb_arg) {
    kinds[n] = K_FREE; /* both */
    slots[n].f.fn = cb;
    slots[n++].arg = cb_arg;
  } else {
    kinds[n] = K_PAIR | K_FREE;
    slots[n].f.fn = cb;
    slots[n++].arg = cb_arg;
    kinds[n] = 0;
    slots[n].f.fn = eb;
    slots[n++].arg = eb_arg;
  }
  kinds[n] = 0;
  slots[n].f.arg_free = arg_free;
  slots[n++].arg = NULL;
  if (append_slots(d, kinds, slots, n) != 0) {
    steps_free_args(&s);
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
  if (steps_append(&d->steps, K_CHAIN, NULL, other, may_compact(d)) != 0)
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
      return;         /* S18 */
    d = innermost(d); /* S19, R7.9 */
    if (d->flags & F_CALLED)
      return; /* fired but paused: nothing to cancel (R7.6) */
  }
  /* A cancel that comes back to a Deferred it is cancelling (a list whose
   * member waits on the list) would recurse for ever; Twisted recurses
   * until a RecursionError that DeferredList.cancel swallows. Here the
   * inner cancel does nothing: the outer one is already at work. */
  if (d->flags & F_CANCELLING)
    return;
  df_ref(d);
  d->flags |= F_CANCELLING;
  if (d->canceller != NULL)
    d->canceller(d, d->canceller_arg);
  else
    d->flags |= F_SUPPRESS;
  d->flags &= (uint16_t)~F_CANCELLING;
  if (!(d->flags & F_CALLED) && !(d->flags & F_CANCELLER_DECIDES))
    df_fire(
        d, df_fail(df_failure_new(&DF_CANCELLED, 0, "Deferred was cancelled")));
  df_unref(d);
}

int df_pause(df_deferred *d) {
  if (d == NULL)
    return DF_EINVAL;
  if (d->paused == UINT16_MAX)
    return DF_EBUSY;
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
