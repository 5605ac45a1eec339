/* Shared values (shared.c): the release function that marks them, and the
 * calls that make and look up shares. Not installed. */
#ifndef DF_SHARED_H
#define DF_SHARED_H

#include <stdbool.h>

#include "internal.h"

/* The release function of every shared value: drops one holder; the last
 * one frees the value with the function it was made with. Thread-safe. */
DF__HIDDEN void df__share_release(void *value);
/* Adds one holder (and one reference of the value's own count, if it has
 * one). Thread-safe. */
DF__HIDDEN void df__share_retain(void *value);

/* Makes the owned value \p r one more holder can keep: a shared value gains
 * a holder; a plain one becomes shared by two (\p r's free function is
 * replaced by df__share_release; the caller hands one of the two on).
 * \return false without memory, leaving \p r as it was. */
DF__HIDDEN bool df__share(df_result *r);

/* df_ok_shared(): a value with its own count, held once. Without memory,
 * the plain result df_ok(value, release). */
DF__HIDDEN df_result df__share_counted(void *value, df_retain_fn retain,
                                       df_free_fn release);

/* The function that finally frees a shared \p value, or NULL. */
DF__HIDDEN df_free_fn df__share_free_fn(const void *value);

#endif /* DF_SHARED_H */
