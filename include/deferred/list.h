/*! \file deferred/list.h
 *  \brief DeferredList and gatherResults (S21-S25).
 *
 *  df_list() watches several Deferreds with one step appended to each member
 *  at the time of the call: callbacks added to a member before shape what the
 *  list records, callbacks added after run after the list's step (S23).
 *
 *  Values recorded by a list: the list and the member's chain both hold the
 *  value, and whichever releases it last frees it, in any order. A plain
 *  owned value df_ok(v, free) becomes a shared value held by the two (its
 *  result's free function changes; df_result_release_fn() still gives
 *  \p free); a df_ok_shared() value gets one more reference of its own
 *  count; failures are reference counted and shared the same way; a
 *  borrowed value stays borrowed on both sides. Without memory to share a
 *  value, the list records a DF_NO_MEMORY failure for that member and the
 *  member's chain keeps its value.
 */
#ifndef DEFERRED_LIST_H
#define DEFERRED_LIST_H

#include <stddef.h>

#include "deferred.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
  /*! Fire on the first success with a df_list_first (S24). */
  DF_FIRE_ON_ONE_CALLBACK = 1u << 0,
  /*! Errback on the first failure with a DF_FIRST_ERROR failure (S24). */
  DF_FIRE_ON_ONE_ERRBACK = 1u << 1,
  /*! A member's failure is recorded, then its chain continues with a NULL
   *  value: it is neither passed on nor reported (S22). */
  DF_CONSUME_ERRORS = 1u << 2
};

/*! One member's outcome. */
typedef struct df_list_entry {
  bool success;     /*!< false when result is a failure */
  df_result result; /*!< owned by the df_list_result */
} df_list_entry;

/*! The value of a list that fired with every member's outcome, in the
 *  members' order (S21). Free it with df_list_result_free() (the value's free
 *  function in the chain). */
typedef struct df_list_result {
  size_t count;            /*!< entries, one per member */
  df_list_entry entries[]; /*!< in the members' order */
} df_list_result;

/*! The value of a DF_FIRE_ON_ONE_CALLBACK list: the first success and the
 *  member's index. Free it with df_list_first_free(). */
typedef struct df_list_first {
  size_t index;     /*!< the member's position in the list */
  df_result result; /*!< owned by the df_list_first */
} df_list_first;

/*! \brief S21-S24 (DeferredList). Watches \p ds[0..n-1]; the list takes a
 *  reference to each member, the caller keeps theirs. Members may repeat
 *  (each occurrence is watched, R8.8).
 *  - Default: fires when every member has fired, with a df_list_result; it
 *    never errbacks. An empty list fires at once (with an empty result),
 *    except with DF_FIRE_ON_ONE_CALLBACK, where it never fires (R8.2).
 *  - DF_FIRE_ON_ONE_CALLBACK: fires with a df_list_first on the first
 *    success; if none succeeds, with the df_list_result once all fired.
 *  - DF_FIRE_ON_ONE_ERRBACK: errbacks on the first failure with a
 *    DF_FIRST_ERROR failure whose code is the index and whose cause is the
 *    member's failure.
 *  The list fires once; later member results are not recorded.
 *  df_cancel() on the unfired list cancels every member, in order (R8.9); the
 *  list itself then fires only through its members.
 *  \param ds borrowed array, copied; NULL is allowed only with \p n == 0.
 *  \return the list's Deferred (the caller's reference); a Deferred already
 *          failed with DF_INVALID_ARGUMENT when \p ds or a member is NULL or
 *          \p flags has unknown bits; NULL only when memory ran out.
 *  \param n number of members.
 *  \param flags DF_FIRE_ON_ONE_CALLBACK, DF_FIRE_ON_ONE_ERRBACK, DF_CONSUME_ERRORS, or 0. */
DF_EXTERN df_deferred *df_list(df_deferred *const *ds, size_t n,
                               unsigned flags);

/*! \brief S25 (gatherResults): df_list() with DF_FIRE_ON_ONE_ERRBACK (plus
 *  DF_CONSUME_ERRORS when set in \p flags). Fires with a df_list_result
 *  whose entries all succeeded, or with the DF_FIRST_ERROR failure of the
 *  first member that failed. \p flags may only hold DF_CONSUME_ERRORS.
 *  \param ds borrowed array, copied; NULL only with \p n == 0.
 *  \param n number of members.
 *  \param flags 0 or DF_CONSUME_ERRORS.
 *  \return as df_list(). */
DF_EXTERN df_deferred *df_gather(df_deferred *const *ds, size_t n,
                                 unsigned flags);

/*! Frees a df_list_result and every result it owns. NULL is a no-op.
 *  \param list_result the df_list_result, or NULL. */
DF_EXTERN void df_list_result_free(void *list_result);

/*! Frees a df_list_first and the result it owns. NULL is a no-op.
 *  \param list_first the df_list_first, or NULL. */
DF_EXTERN void df_list_first_free(void *list_first);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_LIST_H */
