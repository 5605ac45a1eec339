/* A Deferred in memory its maker provides and takes back: the pool carves
 * its jobs' Deferreds out of slabs (pool/blocks.c) instead of allocating
 * each. Not installed: the layers above the core include it from the
 * source tree; the functions are exported from the core so that their
 * shared libraries can call them.
 *
 * A block is a df__placement, the Deferred, then the maker's storage, at
 * offsets fit for any object. A placed Deferred behaves as any other; only
 * its memory goes back to its maker, through `release`, instead of to
 * df_free(). It carries no debug-mode record (deferred.h's df_debug_info),
 * so a maker that honours debug mode uses df_deferred_new_with_storage()
 * while df_get_debugging() is true. */
#ifndef DF_PLACED_H
#define DF_PLACED_H

#include <stddef.h>

#include "deferred/deferred.h"

typedef struct df__placement df__placement;
struct df__placement {
  /* Called once, when the last reference to the Deferred went and after
   * everything it held was released, on the thread that dropped that
   * reference: the whole block is the maker's again. */
  void (*release)(df__placement *block);
  void *owner; /* the maker's, untouched by the core */
};

/* The bytes of a block whose Deferred has \p storage bytes for its maker
 * (a multiple of the strictest alignment); 0 when that would overflow. */
DF_EXTERN size_t df__placed_block_size(size_t storage);

/* Makes a Deferred, unfired and with one reference (the caller's), in
 * \p block, which holds df__placed_block_size() bytes fit for any object
 * and whose release and owner the caller has set. \p canceller receives
 * the storage as its argument, as with df_deferred_new_with_storage().
 * Cannot fail. \p storage receives where the maker's bytes are. */
DF_EXTERN df_deferred *df__deferred_place(df__placement *block,
                                          df_canceller_fn canceller,
                                          void **storage);

#endif /* DF_PLACED_H */
