/*! \file deferred/result.h
 *  \brief df_result: what travels down a callback chain, with its owner.
 *
 *  A result is a small struct passed by value. It is one of
 *  - a value: a pointer and the function that frees it (NULL: borrowed,
 *    never freed by the library), optionally with a retain function when the
 *    value is shared by reference count;
 *  - a failure: one reference to a df_failure;
 *  - a Deferred: returned by a callback to make its chain wait (S26).
 *
 *  Ownership rule: whoever holds a df_result owns what it points to. A
 *  callback takes ownership of its input and returns ownership of its output:
 *  a callback that only looks at its input returns it unchanged; one that
 *  replaces it frees it with df_result_free() first.
 */
#ifndef DEFERRED_RESULT_H
#define DEFERRED_RESULT_H

#include "failure.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct df_deferred df_deferred;

/*! Frees a value. */
typedef void (*df_free_fn)(void *value);
/*! Adds a reference to a shared value. */
typedef void (*df_retain_fn)(void *value);

typedef enum df_kind { DF_VALUE = 0, DF_FAILURE = 1, DF_DEFERRED = 2 } df_kind;

/*! A result. Build it with the functions below rather than by hand. */
typedef struct df_result {
  df_kind kind;
  void *ptr;           /*!< the value, the df_failure, or the df_deferred */
  df_free_fn free;     /*!< values only: frees ptr; NULL when borrowed */
  df_retain_fn retain; /*!< values only: non-NULL for shared values */
} df_result;

/*! \brief A value result. \p free == NULL makes it borrowed: the library
 *  never frees it, and the caller keeps it alive while chains use it. */
static inline df_result df_ok(void *value, df_free_fn free) {
  df_result r = {DF_VALUE, value, free, NULL};
  return r;
}

/*! \brief A reference-counted value: \p retain adds a reference, \p release
 *  drops one. The result owns one reference. Where two parties need the same
 *  value (a DeferredList and its member's chain, S21-S23), each gets a
 *  reference of its own instead of one of them borrowing it. */
static inline df_result df_ok_shared(void *value, df_retain_fn retain,
                                     df_free_fn release) {
  df_result r = {DF_VALUE, value, release, retain};
  return r;
}

/*! \brief A failure result; takes the caller's reference to \p f.
 *  NULL is turned into a DF_INVALID_ARGUMENT failure naming the argument. */
DF_EXTERN df_result df_fail(df_failure *f);

/*! \brief A result that makes the chain wait on \p d (S26). Takes a reference
 *  of its own to \p d; the caller keeps theirs. Returning it from a callback
 *  pauses that callback's Deferred until \p d has a result. */
DF_EXTERN df_result df_wait(df_deferred *d);

/*! \brief Frees what \p r owns: calls the value's free function, or drops the
 *  failure or Deferred reference. */
DF_EXTERN void df_result_free(df_result r);

/*! True when \p r is a failure. */
static inline int df_result_is_failure(df_result r) {
  return r.kind == DF_FAILURE;
}

/*! The failure inside \p r (borrowed), or NULL when \p r is not one. */
static inline df_failure *df_result_failure(df_result r) {
  return r.kind == DF_FAILURE ? (df_failure *)r.ptr : (df_failure *)0;
}

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_RESULT_H */
