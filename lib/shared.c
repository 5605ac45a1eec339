/* Shared values: one value held by several results, freed once by the last.
 *
 * A result stays two words, {value, release}, so that a callback reads its
 * value in one step. A shared value is recognised by its release function
 * alone (df__share_release); its count, and the function that finally frees
 * it, are kept beside it in a table keyed by the value's address. Only
 * values that are actually shared are in the table: a DeferredList recording
 * a member's value, or df_ok_shared(). Nothing is keyed by function, so a
 * program may use any number of free functions.
 *
 * Results may be built on one thread and released on another (a pool job's
 * value), so the table is guarded by a spin flag; it is taken for a few
 * loads and stores only, and never while a user's function runs. */
#include <stdatomic.h>
#include <stdint.h>

#include "internal.h"
#include "shared.h"

struct share {
  void *value;         /* NULL: an empty bucket */
  df_free_fn free;     /* frees the value, or drops one of its own refs */
  df_retain_fn retain; /* the value's own count, or NULL for a plain one */
  size_t holders;      /* results that hold the value */
};

/* Open addressing with linear probing, at most half full; emptied buckets
 * are filled again by shifting the run after them back (no tombstones). The
 * array is freed when the last share goes, so an idle program holds none. */
static struct {
  struct share *buckets;
  size_t cap; /* a power of two, or 0 */
  size_t used;
} table;
static atomic_flag table_lock = ATOMIC_FLAG_INIT;

static void lock(void) {
  while (atomic_flag_test_and_set_explicit(&table_lock, memory_order_acquire))
    ;
}

static void unlock(void) {
  atomic_flag_clear_explicit(&table_lock, memory_order_release);
}

static size_t home_of(const void *value, size_t cap) {
  uint64_t h = (uint64_t)(uintptr_t)value * UINT64_C(0x9e3779b97f4a7c15);
  return (size_t)(h >> 32) & (cap - 1);
}

static struct share *find(const void *value) {
  if (table.cap == 0)
    return NULL;
  for (size_t i = home_of(value, table.cap);; i = (i + 1) & (table.cap - 1)) {
    struct share *s = &table.buckets[i];
    if (s->value == value)
      return s;
    if (s->value == NULL)
      return NULL;
  }
}

static struct share *slot_for(struct share *buckets, size_t cap,
                              const void *value) {
  size_t i = home_of(value, cap);
  while (buckets[i].value != NULL)
    i = (i + 1) & (cap - 1);
  return &buckets[i];
}

static bool grow(void) {
  size_t cap = table.cap ? table.cap * 2 : 16;
  struct share *buckets = df__calloc(cap, sizeof *buckets);
  if (buckets == NULL)
    return false;
  for (size_t i = 0; i < table.cap; i++)
    if (table.buckets[i].value != NULL)
      *slot_for(buckets, cap, table.buckets[i].value) = table.buckets[i];
  df__free(table.buckets);
  table.buckets = buckets;
  table.cap = cap;
  return true;
}

/* Empties bucket s, then moves back every entry of the run after it that
 * would no longer be found from its home bucket. */
static void remove_share(struct share *s) {
  size_t hole = (size_t)(s - table.buckets);
  size_t mask = table.cap - 1;
  table.buckets[hole].value = NULL;
  for (size_t i = (hole + 1) & mask; table.buckets[i].value != NULL;
       i = (i + 1) & mask) {
    size_t home = home_of(table.buckets[i].value, table.cap);
    /* Entry i may fill the hole unless its home lies in (hole, i]. */
    bool stays =
        hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
    if (stays)
      continue;
    table.buckets[hole] = table.buckets[i];
    table.buckets[i].value = NULL;
    hole = i;
  }
  if (--table.used == 0) {
    df__free(table.buckets);
    table.buckets = NULL;
    table.cap = 0;
  }
}

/* Adds a share of \p value with \p holders holders; false without memory. */
static bool insert(void *value, df_free_fn free, df_retain_fn retain,
                   size_t holders) {
  if (2 * (table.used + 1) > table.cap && !grow())
    return false;
  struct share *s = slot_for(table.buckets, table.cap, value);
  s->value = value;
  s->free = free;
  s->retain = retain;
  s->holders = holders;
  table.used++;
  return true;
}

void df__share_release(void *value) {
  lock();
  struct share *s = find(value);
  if (s == NULL) { /* not shared: a result built by hand, nothing to free */
    unlock();
    return;
  }
  df_free_fn free = s->free;
  bool own_count = s->retain != NULL;
  bool last = --s->holders == 0;
  if (last)
    remove_share(s);
  unlock();
  if (own_count || last)
    free(value);
}

void df__share_retain(void *value) {
  lock();
  struct share *s = find(value);
  df_retain_fn retain = NULL;
  if (s != NULL) {
    s->holders++;
    retain = s->retain;
  }
  unlock();
  if (retain != NULL)
    retain(value);
}

bool df__share(df_result *r) {
  if (r->free == df__share_release) {
    df__share_retain(r->ptr);
    return true;
  }
  lock();
  bool ok = insert(r->ptr, r->free, NULL, 2);
  unlock();
  if (ok)
    r->free = df__share_release;
  return ok;
}

df_result df__share_counted(void *value, df_retain_fn retain,
                            df_free_fn release) {
  lock();
  struct share *s = find(value);
  bool ok = true;
  if (s != NULL)
    s->holders++; /* the caller's reference is this holder's */
  else
    ok = insert(value, release, retain, 1);
  unlock();
  return df_ok(value, ok ? df__share_release : release);
}

df_free_fn df__share_free_fn(const void *value) {
  lock();
  struct share *s = find(value);
  df_free_fn free = s != NULL ? s->free : NULL;
  unlock();
  return free;
}
