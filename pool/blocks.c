/* Slabs of job blocks. A submission used to cost one malloc() and, at the
 * end, one free(); in a burst of jobs, with nothing freed yet, glibc serves
 * each from the top of the heap and merges it back on free, about 370
 * instructions a job, more than the whole hand-off to a worker. Here one
 * df_malloc() holds DF__BLOCKS_PER_SLAB blocks, each a job and its Deferred
 * (lib/placed.h).
 *
 * The pool takes blocks from its current slab: first those given back,
 * then the untouched rest. When the current slab has none left it is
 * retired and a new one becomes current. A retired slab hands out nothing
 * more and frees itself when its last block comes back, so memory follows
 * the jobs in flight (plus one slab), and a Deferred that a program keeps
 * long after its job holds at most one slab. The pool retires its current
 * slab when it is freed; Deferreds may outlive the pool.
 *
 * Everything here runs on the reactor thread: a block is taken in
 * df_defer_to_thread() and given back when its Deferred's last reference
 * goes, and deferred.h makes one thread create and release a Deferred.
 * Workers only use a job's fields, between a claim under the queue's mutex
 * and the hand-back, so they never see a block change hands.
 *
 * Under AddressSanitizer a block given back is poisoned (all but its
 * placement) until it is taken again, so a use of a Deferred after its last
 * df_unref() is still reported. */
#include <stdbool.h>
#include <stdint.h>

#include "blocks.h"
#include "deferred/alloc.h"
#include "placed.h" /* lib/ */

#if defined(__SANITIZE_ADDRESS__)
#define DF__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DF__ASAN 1
#endif
#endif
#ifdef DF__ASAN
#include <sanitizer/asan_interface.h>
#define POISON(at, size) ASAN_POISON_MEMORY_REGION((at), (size))
#define UNPOISON(at, size) ASAN_UNPOISON_MEMORY_REGION((at), (size))
#else
#define POISON(at, size) ((void)(at), (void)(size))
#define UNPOISON(at, size) ((void)(at), (void)(size))
#endif

struct df__slab {
  /* Blocks given back, taken again first; linked through their
   * placement's owner, which is the slab again once a block is taken. */
  df__placement *returned;
  size_t block_size;
  unsigned live;   /* blocks taken and not given back */
  unsigned carved; /* blocks taken from the untouched part so far */
  bool retired;    /* not current: freed with its last block */
};

/* The blocks start at an offset fit for any object. */
#define SLAB_HEADER                                                            \
  ((sizeof(df__slab) + _Alignof(max_align_t) - 1) &                            \
   ~(_Alignof(max_align_t) - 1))

static df__placement *carved_block(df__slab *s, unsigned i) {
  return (df__placement *)(void *)((char *)s + SLAB_HEADER +
                                   (size_t)i * s->block_size);
}

/* The bytes of a block after its placement: the Deferred and the job,
 * poisoned while the block is not in use. */
static void *payload(df__placement *block) { return block + 1; }

/* The core's release of a placed Deferred's block. */
static void give_back(df__placement *block) {
  df__slab *s = block->owner;
  size_t payload_size = s->block_size - sizeof *block;
  s->live--;
  if (s->retired) {
    if (s->live == 0) {
      df_free(s);
      return;
    }
    POISON(payload(block), payload_size);
    return;
  }
  block->owner = s->returned;
  s->returned = block;
  POISON(payload(block), payload_size);
}

static void retire(df__slab *s) {
  if (s->live == 0)
    df_free(s);
  else
    s->retired = true;
}

static df__slab *new_slab(size_t block_size) {
  df__slab *s = df_malloc(SLAB_HEADER + DF__BLOCKS_PER_SLAB * block_size);
  if (s == NULL)
    return NULL;
  s->returned = NULL;
  s->block_size = block_size;
  s->live = 0;
  s->carved = 0;
  s->retired = false;
  return s;
}

static df__placement *take(df__blocks *b) {
  df__slab *s = b->current;
  if (s != NULL && s->returned != NULL) {
    df__placement *block = s->returned;
    s->returned = block->owner;
    block->owner = s;
    UNPOISON(payload(block), s->block_size - sizeof *block);
    s->live++;
    return block;
  }
  if (s == NULL || s->carved == DF__BLOCKS_PER_SLAB) {
    df__slab *fresh = new_slab(b->block_size);
    if (fresh == NULL)
      return NULL;
    if (s != NULL)
      retire(s);
    b->current = s = fresh;
  }
  df__placement *block = carved_block(s, s->carved++);
  block->release = give_back;
  block->owner = s;
  s->live++;
  return block;
}

void df__blocks_init(df__blocks *b, size_t storage) {
  b->current = NULL;
  b->block_size = df__placed_block_size(storage);
}

df_deferred *df__blocks_new_deferred(df__blocks *b, df_canceller_fn canceller,
                                     void **storage) {
  df__placement *block = take(b);
  if (block == NULL) {
    *storage = NULL;
    return NULL;
  }
  return df__deferred_place(block, canceller, storage);
}

void df__blocks_destroy(df__blocks *b) {
  if (b->current != NULL)
    retire(b->current);
  b->current = NULL;
}
