/* An intrusive, circular, doubly linked queue with a sentinel head.
 *
 * The node lives inside the queued object, so queueing never allocates and
 * never fails. Removal re-initialises the node: a self-linked node means
 * "not queued", which lets owners ask df__queue_linked() instead of keeping a
 * separate flag. All functions are static inline: nothing here is exported.
 * Not thread-safe: the owner of the head serialises access.
 */
#ifndef DF_QUEUE_H
#define DF_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct df__queue {
  struct df__queue *next;
  struct df__queue *prev;
} df__queue;

/* The object that contains the node \p ptr (container_of, without typeof). */
#define DF__QUEUE_DATA(ptr, type, field)                                       \
  ((type *)(void *)((char *)(ptr)-offsetof(type, field)))

/* Makes \p q an empty head, or an unqueued node. */
static inline void df__queue_init(df__queue *q) {
  q->next = q;
  q->prev = q;
}

static inline bool df__queue_empty(const df__queue *h) { return h->next == h; }

/* True when the node \p q is in some queue (it is not self-linked). */
static inline bool df__queue_linked(const df__queue *q) { return q->next != q; }

/* The first node of \p h; \p h itself when the queue is empty. */
static inline df__queue *df__queue_head(const df__queue *h) { return h->next; }

static inline void df__queue_insert_tail(df__queue *h, df__queue *q) {
  q->next = h;
  q->prev = h->prev;
  q->prev->next = q;
  h->prev = q;
}

static inline void df__queue_insert_head(df__queue *h, df__queue *q) {
  q->next = h->next;
  q->prev = h;
  q->next->prev = q;
  h->next = q;
}

/* Unlinks \p q from whatever queue holds it; the head is not needed. */
static inline void df__queue_remove(df__queue *q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  df__queue_init(q);
}

/* Moves every node of \p h to the empty head \p n in O(1); \p h ends empty.
 * This is how a phase takes its snapshot before running user code. */
static inline void df__queue_move(df__queue *h, df__queue *n) {
  if (df__queue_empty(h)) {
    df__queue_init(n);
    return;
  }
  n->next = h->next;
  n->prev = h->prev;
  n->next->prev = n;
  n->prev->next = n;
  df__queue_init(h);
}

#endif /* DF_QUEUE_H */
