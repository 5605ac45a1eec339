/*! \file deferred/result.h
 *  \brief df_result: what travels down a callback chain, with its owner.
 *
 *  A result is two words passed by value: a pointer and the function that
 *  releases it. It is one of
 *  - a value: \p free frees it, or is NULL when the value is borrowed (the
 *    library never frees it); a shared value (df_ok_shared(), or one a
 *    DeferredList recorded) has several holders and is freed by the last;
 *  - a failure: one reference to a df_failure (\p free is
 *    df_failure_release);
 *  - a Deferred: returned by a callback to make its chain wait (S26;
 *    \p free is df_deferred_release).
 *  df_result_kind() tells which. The kind is carried by the release function
 *  rather than a field of its own so that a result fits in two registers:
 *  a callback then costs one indirect call, where a three-word struct would
 *  be passed and returned through memory at about three times the cost.
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

/*! An opaque Deferred (deferred/deferred.h). */
typedef struct df_deferred df_deferred;

/*! Frees (or drops a reference to) a value. */
typedef void (*df_free_fn)(void *value);
/*! Adds a reference to a shared value. */
typedef void (*df_retain_fn)(void *value);

/*! What a result holds (df_result_kind()). */
typedef enum df_kind {
  DF_VALUE = 0,   /*!< a plain value */
  DF_FAILURE = 1, /*!< a df_failure */
  DF_DEFERRED = 2 /*!< a df_deferred to wait on (df_wait()) */
} df_kind;

/*! A result. Build it with the functions below rather than by hand. */
typedef struct df_result {
  void *ptr;       /*!< the value, the df_failure, or the df_deferred */
  df_free_fn free; /*!< releases ptr (NULL: borrowed value); tells the kind */
} df_result;

/*! \brief df_failure_unref() as a df_free_fn: the release function of every
 *  failure result, which is how df_result_kind() recognises one.
 *  \param failure the df_failure whose reference is dropped. */
DF_EXTERN void df_failure_release(void *failure);

/*! \brief df_unref() as a df_free_fn: the release function of every Deferred
 *  result (df_wait()).
 *  \param deferred the df_deferred whose reference is dropped. */
DF_EXTERN void df_deferred_release(void *deferred);

/*! \brief A value result. \p free == NULL makes it borrowed: the library
 *  never frees it, and the caller keeps it alive while chains use it.
 *  Restriction: \p free must not be df_failure_release or
 *  df_deferred_release. */
static inline df_result df_ok(void *value, df_free_fn free) {
  df_result r = {value, free};
  return r;
}

/*! \brief A value that carries its own reference count: \p retain adds a
 *  reference, \p release drops one; the result owns the caller's reference.
 *  Every further holder of the value (a DeferredList and its member's chain,
 *  S21-S23) takes a reference of its own with \p retain and drops it with
 *  \p release.
 *
 *  The result's free function is the library's mark of a shared value, not
 *  \p release: use df_result_release_fn() to tell what a shared value is.
 *  Nothing is remembered per function: any number of (retain, release)
 *  pairs may be used. A plain df_ok(value, free) needs none of this to be
 *  held by a list (see df_list()); use df_ok_shared() where other code keeps
 *  references to the value too.
 *
 *  NULL \p value, \p retain or \p release gives df_ok(value, release);
 *  so does a lack of memory for the share (the value is then held once, as a
 *  plain value). A value shared already is given one more holder. Any
 *  thread may call it.
 *  \param value the shared value; the result owns one reference.
 *  \param retain adds a reference, or NULL.
 *  \param release drops one.
 *  \return the result. */
DF_EXTERN df_result df_ok_shared(void *value, df_retain_fn retain,
                                 df_free_fn release);

/*! \brief For a shared value (df_ok_shared(), or a plain value a
 *  DeferredList shares with its member's chain), the function that adds
 *  one holder: calling it on \p r.ptr makes one more result
 *  {r.ptr, r.free} to own. NULL when \p r is not a shared value. Any thread
 *  may call it.
 *  \param r the result (borrowed).
 *  \return the retain function, or NULL. */
DF_EXTERN df_retain_fn df_result_retain(df_result r);

/*! \brief The function that frees \p r's value in the end: \p r.free, or
 *  for a shared value the free function it was made with (the last holder
 *  calls it; a value with its own count has it called by every holder).
 *  Use it, not \p r.free, to tell what type a value is. Any thread may
 *  call it.
 *  \param r the result (borrowed).
 *  \return the free function, NULL for a borrowed value. */
DF_EXTERN df_free_fn df_result_release_fn(df_result r);

/*! \brief A failure result; takes the caller's reference to \p f.
 *  NULL is turned into a DF_INVALID_ARGUMENT failure naming the argument.
 *  \param f the failure; its reference is taken.
 *  \return the failure result. */
DF_EXTERN df_result df_fail(df_failure *f);

/*! \brief A result that makes the chain wait on \p d (S26). Takes a reference
 *  of its own to \p d; the caller keeps theirs. Returning it from a callback
 *  pauses that callback's Deferred until \p d has a result. NULL \p d gives
 *  a DF_INVALID_ARGUMENT failure.
 *  \param d the Deferred to wait on (borrowed).
 *  \return the result to return from a callback. */
DF_EXTERN df_result df_wait(df_deferred *d);

/*! What \p r is. */
static inline df_kind df_result_kind(df_result r) {
  if (r.free == df_failure_release)
    return DF_FAILURE;
  if (r.free == df_deferred_release)
    return DF_DEFERRED;
  return DF_VALUE;
}

/*! True when \p r is a failure. */
static inline int df_result_is_failure(df_result r) {
  return r.free == df_failure_release;
}

/*! The failure inside \p r (borrowed), or NULL when \p r is not one. */
static inline df_failure *df_result_failure(df_result r) {
  return r.free == df_failure_release ? (df_failure *)r.ptr : (df_failure *)0;
}

/*! \brief Frees what \p r owns: calls the value's free function, or drops the
 *  failure or Deferred reference. A borrowed value is left alone. */
static inline void df_result_free(df_result r) {
  if (r.free != 0)
    r.free(r.ptr);
}

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_RESULT_H */
