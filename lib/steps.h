/* A Deferred's queue of steps: one representation, one append, one reset.
 *
 * The queue is an array of slots with one byte of kind per slot; the kinds
 * sit just before the slots (kinds = (uint8_t *)slots - cap), so one pointer
 * finds both. The first STEPS_INLINE slots live inside the queue itself, in
 * the Deferred's allocation; a longer queue moves to one heap array that
 * grows. Either way the code that appends, runs and resets steps is the same:
 * only steps_grow() and steps_release() know where the array lives.
 *
 * A step is one slot, plus one for the errback of a pair, plus one holding
 * the arguments' destructor. Internal to the core; the hot functions are
 * static inline so that the run loop and the adders keep them in
 * registers. */
#ifndef DF_STEPS_H
#define DF_STEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

#define STEPS_INLINE 4

/* The kind byte of a step's first slot; the other slots of a step have
 * kind 0. Only the three one-slot kinds carry K_CB or K_EB, so the run loop
 * tells "run this slot now" with one test, (kind & wanted) != 0. */
enum {
  K_CB = 1, /* run the slot's function on a value */
  K_EB = 2, /* ... on a failure */
  K_BOTH = K_CB | K_EB,
  K_PAIR = 4,      /* callback here, errback in the next slot */
  K_FREE = 8,      /* the last slot holds the arguments' destructor; alone,
                      the slot's function is both callback and errback */
  K_CONTINUE = 16, /* hand the result to the Deferred waiting on this one */
  K_CHAIN = 32,    /* fire another Deferred with the result (S28) */
  K_MISUSE = 64,   /* a NULL function was added: fail the chain */
  K_SPECIAL = K_CONTINUE | K_CHAIN | K_MISUSE
};

struct slot {
  union {
    df_callback_fn fn;
    df_arg_free_fn arg_free;
  } f;
  void *arg;
};

struct steps {
  struct slot *slots;                 /* inline_slots, or a heap array */
  uint32_t head, count;               /* next slot to run; slots in use */
  uint32_t cap;                       /* slots the array holds */
  uint8_t inline_kinds[STEPS_INLINE]; /* just before inline_slots */
  struct slot inline_slots[STEPS_INLINE];
};

_Static_assert(offsetof(struct steps, inline_slots) -
                       offsetof(struct steps, inline_kinds) ==
                   STEPS_INLINE,
               "the inline kinds must sit just before the inline slots");

/* A decoded step, for everything but the one-slot fast path. */
struct step {
  unsigned kind;
  df_callback_fn cb, eb;
  void *cb_arg, *eb_arg;
  df_arg_free_fn arg_free;
};

static inline uint8_t *steps_kinds(const struct steps *q) {
  return (uint8_t *)q->slots - q->cap;
}

static inline void steps_init(struct steps *q) {
  q->slots = q->inline_slots;
  q->head = q->count = 0;
  q->cap = STEPS_INLINE;
}

static inline bool steps_pending(const struct steps *q) {
  return q->head < q->count;
}

/* An emptied queue starts again at slot 0, so a Deferred that is fed and
 * drained in turns never grows. */
static inline void steps_reset(struct steps *q) { q->head = q->count = 0; }

/* Makes room for n more slots. \p may_compact: no run is reading the queue
 * from a register copy of its head, so the live steps may move to the
 * front. \return 0 or DF_ENOMEM (the queue is unchanged). */
DF__HIDDEN int steps_grow(struct steps *q, uint32_t n, bool may_compact);

/* Between two callbacks of a run that stored its head: when most of a heap
 * array is steps already run (a callback that keeps adding the next step
 * to its own Deferred), the live ones move to the front, so the array grows
 * with the steps waiting, not with every step the run has seen. */
static inline void steps_compact_ran(struct steps *q) {
  if (DF__UNLIKELY(q->head >= 32 && q->head > q->cap / 2))
    (void)steps_grow(q, 0, true); /* moves, never allocates */
}

static inline int steps_reserve(struct steps *q, uint32_t n, bool may_compact) {
  if (DF__LIKELY(q->cap - q->count >= n))
    return 0;
  return steps_grow(q, n, may_compact);
}

/* Writes one slot; room must have been reserved. The count is read into a
 * local first: the kind byte is stored through a uint8_t pointer, which may
 * alias anything and would force it to be read again. */
static inline void steps_put(struct steps *q, unsigned kind, df_callback_fn fn,
                             void *arg) {
  uint32_t n = q->count;
  uint8_t *kinds = steps_kinds(q);
  q->slots[n].f.fn = fn;
  q->slots[n].arg = arg;
  q->count = n + 1;
  kinds[n] = (uint8_t)kind;
}

/* The one append of a one-slot step. \return 0 or DF_ENOMEM. */
static inline int steps_append(struct steps *q, unsigned kind,
                               df_callback_fn fn, void *arg, bool may_compact) {
  if (DF__UNLIKELY(steps_reserve(q, 1, may_compact) != 0))
    return DF_ENOMEM;
  steps_put(q, kind, fn, arg);
  return 0;
}

/* Decodes the step at the head into \p s and moves the head past it;
 * resets an emptied queue. \return false when no step is left. */
DF__HIDDEN bool steps_pop(struct steps *q, struct step *s);

/* Releases what a step that will never run holds: its arguments, or the
 * reference of a hand-off or chain step. */
DF__HIDDEN void steps_discard(const struct step *s);

/* Frees the arguments of a step that ran (K_FREE). */
DF__HIDDEN void steps_free_args(const struct step *s);

/* Discards every step left and frees the heap array. */
DF__HIDDEN void steps_release(struct steps *q);

#endif /* DF_STEPS_H */
