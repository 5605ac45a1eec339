/* The memory of the pool's jobs: each job and its Deferred share one block,
 * and blocks are carved out of slabs (blocks.c). Not installed. */
#ifndef DF_POOL_BLOCKS_H
#define DF_POOL_BLOCKS_H

#include <stddef.h>

#include "deferred/deferred.h"

/* Blocks one slab holds: about 15 KB of jobs, one allocation per this many
 * submissions, well under glibc's threshold for mapping memory of its
 * own. */
#define DF__BLOCKS_PER_SLAB 64u

typedef struct df__slab df__slab;

/* Blocks of one size, for one pool; reactor thread only. */
typedef struct df__blocks {
  df__slab *current; /* where blocks are taken from; NULL before the first */
  df__slab *spare;   /* an emptied slab kept for the next, or NULL */
  df__slab *full;    /* slabs with every block out */
  df__slab *partial; /* slabs with blocks out and some given back */
  size_t block_size; /* bytes of a block (df__placed_block_size()) */
} df__blocks;

/* Blocks whose Deferreds carry \p storage bytes for the caller. */
void df__blocks_init(df__blocks *b, size_t storage);

/* A new Deferred, with one reference (the caller's), in a block of \p b;
 * its storage is at *storage and is the argument \p canceller receives.
 * The block goes back to its slab when the Deferred's last reference goes.
 * NULL (and *storage NULL) when a slab was needed and could not be
 * allocated. */
df_deferred *df__blocks_new_deferred(df__blocks *b, df_canceller_fn canceller,
                                     void **storage);

/* The pool is done with \p b: an unused slab is freed now, one whose
 * Deferreds are still referenced when its last one goes (on the thread that
 * releases it, one thread at a time). */
void df__blocks_destroy(df__blocks *b);

#endif /* DF_POOL_BLOCKS_H */
