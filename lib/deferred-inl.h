/* The Deferred's layout and its result slot. Included by deferred.c only:
 * every function is static, so the hot paths inline into the loop. The
 * queue of steps is steps.h's. */
#ifndef DF_DEFERRED_INL_H
#define DF_DEFERRED_INL_H

#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "steps.h"

enum {
  F_CALLED = 1u << 0,
  F_RUNNING = 1u << 1,  /* one of its callbacks is on the C stack */
  F_SUPPRESS = 1u << 2, /* swallow one fire: cancelled without canceller */
  F_DEBUG = 1u << 3,    /* a struct debug_prefix precedes the Deferred */
  F_CANCELLER_DECIDES = 1u << 4,
  F_CANCELLER_OWNS_ARG = 1u << 5,
  F_WAITED_ON = 1u << 6,  /* another Deferred has waited on this one */
  F_CANCELLING = 1u << 7, /* df_cancel() of it is on the C stack */
  F_PLACED = 1u << 8      /* in its maker's block, a df__placement before it
                             (placed.h) */
};

/* 128 bytes on LP64 with the four inline slots of its step queue. */
struct df_deferred {
  uint32_t refs;
  uint16_t flags;
  uint16_t paused;
  void *res_ptr;
  df_free_fn res_free;
  df_canceller_fn canceller;
  void *canceller_arg;
  struct steps steps;
};

/* Debug mode puts this in front of the Deferred, in the same allocation. */
struct debug_prefix {
  df_debug_info info;
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

/* Twisted's "paused": explicitly, or waiting on another Deferred. */
static inline bool is_paused(const df_deferred *d) {
  return d->paused != 0 || is_waiting(d);
}

static df_debug_info *debug_info(df_deferred *d) {
  if (!(d->flags & F_DEBUG))
    return NULL;
  return &((struct debug_prefix *)(void *)d - 1)->info;
}

/* Steps may move to the front of the queue only while no run of d holds
 * its head in a register. */
static inline bool may_compact(const df_deferred *d) {
  return !(d->flags & F_RUNNING);
}

#endif /* DF_DEFERRED_INL_H */
