/* Slabs of job blocks. A submission used to cost one malloc() and, at the
 * end, one free(); in a burst of jobs, with nothing freed yet, glibc serves
 * each from the top of the heap and merges it back on free, about 370
 * instructions a job, more than the whole hand-off to a worker. Here one
 * df_malloc() holds DF__BLOCKS_PER_SLAB blocks, each a job and its Deferred
 * (lib/placed.h).
 *
 * A slab is, for its pool, one of:
 *   current  blocks are taken from it: first those given back, then the
 *            untouched rest;
 *   full     every block is out (it was current until it had none left);
 *   partial  some of its blocks came back: it becomes current again when
 *            the current one has none left, before any new slab;
 *   spare    every block came back: kept, one at most, for when no
 *            partial slab is left; another empty slab is freed.
 * So memory follows the jobs in flight (plus a slab or two), a steady flow
 * of jobs allocates nothing once running however many it keeps in flight
 * and in whatever order they finish, and a Deferred that a program keeps
 * long after its job pins one block, not a slab. When the pool is freed,
 * its slabs with blocks out are orphaned: each frees itself with its last
 * block, so Deferreds may outlive the pool.
 *
 * Everything here runs on the reactor thread: a block is taken in
 * df_defer_to_thread() and given back when its Deferred's last reference
 * goes, and deferred.h makes one thread create and release a Deferred.
 * Workers only use a job's fields, between a claim under the queue's mutex
 * and the hand-back, so they never see a block change hands.
 *
 * Blocks not in use are poisoned for AddressSanitizer, and marked
 * inaccessible for valgrind in the memcheck build: a block given back (all
 * but its placement, which links it) until it is taken again, and the
 * blocks of a slab not carved yet. A use of a Deferred after its last
 * df_unref(), or past the end of its block, is still reported. */
#include <stdbool.h>
#include <stdint.h>

#include "blocks.h"
#include "deferred/alloc.h"
#include "placed.h" /* lib/ */

/* ------------------------------------------------------------ poisoning */

#if defined(__SANITIZE_ADDRESS__)
#define DF__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DF__ASAN 1
#endif
#endif
#ifdef DF__ASAN
#include <sanitizer/asan_interface.h>
#endif
#ifdef DF_VALGRIND_ANNOTATE /* the memcheck build (pool/CMakeLists.txt) */
#include <valgrind/memcheck.h>
#endif

/* Memory of a slab that no live Deferred uses: unusable until taken. */
static void poison(void *at, size_t size) {
#ifdef DF__ASAN
  ASAN_POISON_MEMORY_REGION(at, size);
#endif
#ifdef DF_VALGRIND_ANNOTATE
  VALGRIND_MAKE_MEM_NOACCESS(at, size);
#endif
  (void)at;
  (void)size;
}

/* Memory taken for a Deferred (or handed back to the allocator): usable,
 * its contents undefined. */
static void unpoison(void *at, size_t size) {
#ifdef DF__ASAN
  ASAN_UNPOISON_MEMORY_REGION(at, size);
#endif
#ifdef DF_VALGRIND_ANNOTATE
  VALGRIND_MAKE_MEM_UNDEFINED(at, size);
#endif
  (void)at;
  (void)size;
}

/* ------------------------------------------------------------ slabs */

enum slab_state { SLAB_CURRENT, SLAB_FULL, SLAB_PARTIAL, SLAB_SPARE };

struct df__slab {
  /* Blocks given back, taken again first; linked through their
   * placement's owner, which is the slab again once a block is taken. */
  df__placement *returned;
  df__blocks *owner;     /* NULL once the pool is freed: orphaned */
  df__slab *prev, *next; /* in owner->full or owner->partial */
  size_t block_size;
  unsigned live;   /* blocks taken and not given back */
  unsigned carved; /* blocks taken from the untouched part so far */
  enum slab_state state;
};

/* The blocks start at an offset fit for any object. */
#define SLAB_HEADER                                                            \
  ((sizeof(df__slab) + _Alignof(max_align_t) - 1) &                            \
   ~(_Alignof(max_align_t) - 1))

static size_t blocks_bytes(const df__slab *s) {
  return DF__BLOCKS_PER_SLAB * s->block_size;
}

static df__placement *carved_block(df__slab *s, unsigned i) {
  return (df__placement *)(void *)((char *)s + SLAB_HEADER +
                                   (size_t)i * s->block_size);
}

/* The bytes of a block after its placement: the Deferred and the job. */
static void *payload(df__placement *block) { return block + 1; }

static size_t payload_size(const df__slab *s) {
  return s->block_size - sizeof(df__placement);
}

static void free_slab(df__slab *s) {
  unpoison((char *)s + SLAB_HEADER, blocks_bytes(s)); /* the allocator's */
  df_free(s);
}

/* Every block untouched, poisoned until carved. */
static void make_fresh(df__slab *s) {
  s->returned = NULL;
  s->prev = s->next = NULL;
  s->live = 0;
  s->carved = 0;
  poison((char *)s + SLAB_HEADER, blocks_bytes(s));
}

/* NULL when the allocation fails or the size would overflow. */
static df__slab *new_slab(df__blocks *owner) {
  size_t block_size = owner->block_size;
  if (block_size == 0 ||
      block_size > (SIZE_MAX - SLAB_HEADER) / DF__BLOCKS_PER_SLAB)
    return NULL;
  df__slab *s = df_malloc(SLAB_HEADER + DF__BLOCKS_PER_SLAB * block_size);
  if (s == NULL)
    return NULL;
  s->owner = owner;
  s->block_size = block_size;
  make_fresh(s);
  return s;
}

/* The list of owner's that holds slabs in \p state. */
static df__slab **list_of(df__blocks *b, enum slab_state state) {
  return state == SLAB_FULL ? &b->full : &b->partial;
}

static void list_push(df__blocks *b, df__slab *s, enum slab_state state) {
  df__slab **head = list_of(b, state);
  s->state = state;
  s->prev = NULL;
  s->next = *head;
  if (*head != NULL)
    (*head)->prev = s;
  *head = s;
}

static void list_remove(df__blocks *b, df__slab *s) {
  if (s->prev != NULL)
    s->prev->next = s->next;
  else
    *list_of(b, s->state) = s->next;
  if (s->next != NULL)
    s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

/* The last block out of a listed slab came back. */
static void emptied(df__blocks *b, df__slab *s) {
  list_remove(b, s);
  if (b->spare != NULL) {
    free_slab(s);
    return;
  }
  make_fresh(s);
  s->state = SLAB_SPARE;
  b->spare = s;
}

/* The core's release of a placed Deferred's block. */
static void give_back(df__placement *block) {
  df__slab *s = block->owner;
  df__blocks *b = s->owner;
  s->live--;
  poison(payload(block), payload_size(s));
  if (b == NULL) { /* orphaned: nothing is taken from it any more */
    if (s->live == 0)
      free_slab(s);
    return;
  }
  block->owner = s->returned;
  s->returned = block;
  if (s->state == SLAB_CURRENT)
    return;
  if (s->live == 0) {
    emptied(b, s);
  } else if (s->state == SLAB_FULL) {
    list_remove(b, s);
    list_push(b, s, SLAB_PARTIAL);
  }
}

/* ------------------------------------------------------------ blocks */

/* A slab to take blocks from once the current one has none left: a partial
 * one, the spare, or a new one. */
static df__slab *next_current(df__blocks *b) {
  df__slab *s = b->partial;
  if (s != NULL) {
    list_remove(b, s);
  } else if ((s = b->spare) != NULL) {
    b->spare = NULL;
  } else if ((s = new_slab(b)) == NULL) {
    return NULL;
  }
  s->state = SLAB_CURRENT;
  return s;
}

static bool has_blocks(const df__slab *s) {
  return s->returned != NULL || s->carved < DF__BLOCKS_PER_SLAB;
}

static df__placement *take(df__blocks *b) {
  df__slab *s = b->current;
  if (s == NULL || !has_blocks(s)) {
    df__slab *next = next_current(b);
    if (next == NULL)
      return NULL;
    if (s != NULL)
      list_push(b, s, SLAB_FULL); /* none returned, all carved: all out */
    b->current = s = next;
  }
  s->live++;
  df__placement *block = s->returned;
  if (block != NULL) {
    unpoison(payload(block), payload_size(s));
    s->returned = block->owner;
  } else {
    block = carved_block(s, s->carved++);
    unpoison(block, s->block_size);
    block->release = give_back;
  }
  block->owner = s;
  return block;
}

void df__blocks_init(df__blocks *b, size_t storage) {
  b->current = NULL;
  b->spare = NULL;
  b->full = NULL;
  b->partial = NULL;
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

/* A slab with blocks out outlives the pool: it frees itself with its last
 * block; an empty one goes now. */
static void orphan(df__slab *s) {
  if (s->live == 0)
    free_slab(s);
  else
    s->owner = NULL;
}

static void orphan_list(df__blocks *b, df__slab **head) {
  df__slab *s;
  while ((s = *head) != NULL) {
    list_remove(b, s);
    orphan(s);
  }
}

void df__blocks_destroy(df__blocks *b) {
  if (b->current != NULL)
    orphan(b->current);
  if (b->spare != NULL)
    free_slab(b->spare);
  orphan_list(b, &b->full);
  orphan_list(b, &b->partial);
  b->current = b->spare = NULL;
}
