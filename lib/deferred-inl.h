/* The Deferred's layout and its queue of steps. Included by deferred.c
 * only: every function is static, so the hot paths inline into the loop. */
#ifndef DF_DEFERRED_INL_H
#define DF_DEFERRED_INL_H

#include <stdint.h>
#include <string.h>

#include "internal.h"

#define INLINE_SLOTS 4

enum {
  F_CALLED = 1u << 0,
  F_RUNNING = 1u << 1,  /* one of its callbacks is on the C stack */
  F_SUPPRESS = 1u << 2, /* swallow one fire: cancelled without canceller */
  F_DEBUG = 1u << 3,    /* a struct debug_prefix precedes the Deferred */
  F_CANCELLER_DECIDES = 1u << 4,
  F_CANCELLER_OWNS_ARG = 1u << 5,
  F_WAITED_ON = 1u << 6 /* another Deferred has waited on this one */
};

/* One byte of kind per slot. A step is one slot, plus one for the errback
 * of a pair, plus one holding the arguments' destructor. */
enum {
  K_CB = 1,         /* run the slot's function on a value */
  K_EB = 2,         /* ... on a failure */
  K_BOTH = K_CB | K_EB,
  K_PAIR = 4,       /* the next slot holds the errback */
  K_FREE = 8,       /* the last slot holds the arguments' destructor */
  K_CONTINUE = 16,  /* hand the result to the Deferred waiting on this one */
  K_CHAIN = 32,     /* fire another Deferred with the result (S28) */
  K_MISUSE = 64,    /* a NULL function was added: fail the chain */
  K_SPECIAL = K_CONTINUE | K_CHAIN | K_MISUSE
};

struct slot {
  union {
    df_callback_fn fn;
    df_arg_free_fn arg_free;
  } f;
  void *arg;
};

struct spill {
  uint32_t head, count, cap;
  uint8_t *kinds; /* points just past slots[cap] */
  struct slot slots[];
};

struct df_deferred {
  uint32_t refs;
  uint16_t flags;
  uint8_t head;  /* next inline slot to run */
  uint8_t count; /* inline slots in use */
  uint32_t paused;
  uint8_t kinds[INLINE_SLOTS];
  void *res_ptr;
  df_free_fn res_free;
  df_canceller_fn canceller;
  void *canceller_arg;
  struct spill *spill; /* once set, every step lives there */
  struct slot slots[INLINE_SLOTS];
};

/* Debug mode puts this in front of the Deferred, in the same allocation. */
struct debug_prefix {
  df_debug_info info;
};

/* A decoded step. */
struct step {
  unsigned kind;
  df_callback_fn cb, eb;
  void *cb_arg, *eb_arg;
  df_arg_free_fn arg_free;
};

static const df_result EMPTY = {NULL, NULL};

/* ------------------------------------------------------------ result slot */

static inline bool is_failure(df_result r) {
  return r.free == df_failure_release;
}

static inline df_result get_result(const df_deferred *d) {
  df_result r = {d->res_ptr, d->res_free};
  return r;
}

static inline void set_result(df_deferred *d, df_result r) {
  d->res_ptr = r.ptr;
  d->res_free = r.free;
}

static inline df_result take_result(df_deferred *d) {
  df_result r = get_result(d);
  set_result(d, EMPTY);
  return r;
}

static inline bool is_waiting(const df_deferred *d) {
  return d->res_free == df_deferred_release;
}

static inline bool d_is_failed(const df_deferred *d) {
  return d->res_free == df_failure_release;
}

/* Twisted's "paused": explicitly, or waiting on another Deferred. */
static inline bool is_paused(const df_deferred *d) {
  return d->paused != 0 || is_waiting(d);
}

static df_debug_info *debug_info(df_deferred *d) {
  if (!(d->flags & F_DEBUG))
    return NULL;
  return &((struct debug_prefix *)(void *)d - 1)->info;
}

/* ------------------------------------------------------------ step queue */

static inline bool has_steps(const df_deferred *d) {
  if (d->spill != NULL)
    return d->spill->head < d->spill->count;
  return d->head < d->count;
}

static inline bool pop_step(df_deferred *d, struct step *s) {
  const uint8_t *kinds;
  const struct slot *slots;
  uint32_t i;
  struct spill *sp = d->spill;

  if (sp == NULL) {
    if (d->head >= d->count)
      return false;
    kinds = d->kinds;
    slots = d->slots;
    i = d->head;
  } else {
    if (sp->head >= sp->count)
      return false;
    kinds = sp->kinds;
    slots = sp->slots;
    i = sp->head;
  }
  unsigned kind = kinds[i];
  const struct slot *sl = &slots[i];
  unsigned len = 1;

  s->kind = kind;
  s->cb_arg = s->eb_arg = sl->arg;
  s->arg_free = NULL;
  if (kind & K_PAIR) {
    s->cb = sl[0].f.fn;
    s->eb = sl[1].f.fn;
    s->eb_arg = sl[1].arg;
    len = 2;
  } else {
    s->cb = (kind & K_CB) ? sl->f.fn : NULL;
    s->eb = (kind & K_EB) ? sl->f.fn : NULL;
  }
  if (kind & K_FREE)
    s->arg_free = sl[len++].f.arg_free;

  /* An emptied queue starts again at slot 0, so a Deferred that is fed and
   * drained in turns never grows. */
  if (sp == NULL) {
    d->head = (uint8_t)(d->head + len);
    if (d->head == d->count)
      d->head = d->count = 0;
  } else {
    sp->head += len;
    if (sp->head == sp->count)
      sp->head = sp->count = 0;
  }
  return true;
}

/* Makes room for n more slots. The first spill moves the inline steps out;
 * later ones grow the array in place while its head is at 0 (a chain being
 * built), or copy the live steps to the front of a new array. */
static int reserve_slots(df_deferred *d, unsigned n) {
  struct spill *old = d->spill;
  uint32_t head, live;

  if (old == NULL) {
    if ((unsigned)d->count + n <= INLINE_SLOTS)
      return 0;
    head = d->head;
    live = (uint32_t)(d->count - d->head);
  } else {
    if (old->count + n <= old->cap)
      return 0;
    head = old->head;
    live = old->count - old->head;
  }
  /* Four times what is needed while small (fewer copies for the usual
   * chain of tens of steps), then twice. */
  uint64_t need = (uint64_t)live + n;
  uint64_t want = need < 1024 ? 4 * need : 2 * need;
  if (want < 32)
    want = 32;
  if (want > UINT32_MAX / 2)
    return DF_ENOMEM;
  uint32_t cap = (uint32_t)want;
  size_t bytes = sizeof(struct spill) + cap * (sizeof(struct slot) + 1);

  if (old != NULL && head == 0) {
    struct spill *sp = df__realloc(old, bytes);
    if (sp == NULL)
      return DF_ENOMEM;
    uint8_t *kinds = (uint8_t *)(void *)&sp->slots[cap];
    memmove(kinds, (uint8_t *)(void *)&sp->slots[sp->cap], live);
    sp->kinds = kinds;
    sp->cap = cap;
    d->spill = sp;
    return 0;
  }
  struct spill *sp = df__malloc(bytes);
  if (sp == NULL)
    return DF_ENOMEM;
  sp->cap = cap;
  sp->kinds = (uint8_t *)(void *)&sp->slots[cap];
  if (old == NULL) {
    memcpy(sp->slots, d->slots + head, live * sizeof(struct slot));
    memcpy(sp->kinds, d->kinds + head, live);
    d->head = d->count = 0;
  } else {
    memcpy(sp->slots, old->slots + head, live * sizeof(struct slot));
    memcpy(sp->kinds, old->kinds + head, live);
    df__free(old);
  }
  sp->head = 0;
  sp->count = live;
  d->spill = sp;
  return 0;
}

static int push_step(df_deferred *d, const uint8_t *kinds,
                     const struct slot *slots, unsigned n) {
  if (reserve_slots(d, n) != 0)
    return DF_ENOMEM;
  struct spill *sp = d->spill;
  for (unsigned i = 0; i < n; i++) {
    if (sp == NULL) {
      d->kinds[d->count] = kinds[i];
      d->slots[d->count++] = slots[i];
    } else {
      sp->kinds[sp->count] = kinds[i];
      sp->slots[sp->count++] = slots[i];
    }
  }
  return 0;
}

/* The hot path of every adder: one slot, written in place. Counts are read
 * into locals first: the kind byte is stored through a uint8_t pointer,
 * which may alias anything and would force them to be read again. */
static inline int push_one(df_deferred *d, unsigned kind, df_callback_fn fn,
                           void *arg) {
  struct spill *sp = d->spill;

  if (sp == NULL) {
    unsigned n = d->count;
    if (n < INLINE_SLOTS) {
      d->slots[n].f.fn = fn;
      d->slots[n].arg = arg;
      d->count = (uint8_t)(n + 1);
      d->kinds[n] = (uint8_t)kind;
      return 0;
    }
  } else {
    uint32_t n = sp->count;
    if (n < sp->cap) {
      uint8_t *kinds = sp->kinds;
      sp->slots[n].f.fn = fn;
      sp->slots[n].arg = arg;
      sp->count = n + 1;
      kinds[n] = (uint8_t)kind;
      return 0;
    }
  }
  struct slot one;
  uint8_t k = (uint8_t)kind;
  one.f.fn = fn;
  one.arg = arg;
  return push_step(d, &k, &one, 1);
}

static void free_step_args(const struct step *s) {
  if (s->arg_free == NULL)
    return;
  if (s->cb_arg != NULL)
    s->arg_free(s->cb_arg);
  if (s->eb_arg != NULL && s->eb_arg != s->cb_arg)
    s->arg_free(s->eb_arg);
}

/* A step that will never run: release what it holds. */
static void discard_step(const struct step *s) {
  if (s->kind & (K_CONTINUE | K_CHAIN))
    df_unref(s->cb_arg);
  else
    free_step_args(s);
}

/* Where the next step of d is: one view over the inline slots and the
 * spill array. */
struct cursor {
  const uint8_t *kinds;
  const struct slot *slots;
  uint32_t i, n;
};

static inline void cursor_load(const df_deferred *d, struct cursor *c) {
  const struct spill *sp = d->spill;
  if (sp == NULL) {
    c->kinds = d->kinds;
    c->slots = d->slots;
    c->i = d->head;
    c->n = d->count;
  } else {
    c->kinds = sp->kinds;
    c->slots = sp->slots;
    c->i = sp->head;
    c->n = sp->count;
  }
}

/* An emptied queue starts again at slot 0, so a Deferred that is fed and
 * drained in turns never grows. */
static inline void cursor_reset(df_deferred *d) {
  if (d->spill == NULL)
    d->head = d->count = 0;
  else
    d->spill->head = d->spill->count = 0;
}

#endif /* DF_DEFERRED_INL_H */
