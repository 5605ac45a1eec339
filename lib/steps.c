/* The step queue's slow paths: growing, decoding, discarding. */
#include <string.h>

#include "steps.h"

/* A heap array is one block: cap kind bytes, then cap slots. cap is a
 * multiple of 16, so the slots stay aligned. */
static uint8_t *block_of(const struct steps *q) { return steps_kinds(q); }

static bool on_heap(const struct steps *q) {
  return q->slots != q->inline_slots;
}

/* Four times what is needed while small (fewer copies for the usual chain of
 * tens of steps), then twice. 0 when it would not fit. */
static uint32_t capacity_for(uint64_t need) {
  uint64_t want = need < 1024 ? 4 * need : 2 * need;
  if (want < 32)
    want = 32;
  want = (want + 15) & ~(uint64_t)15;
  if (want > UINT32_MAX / 2 / sizeof(struct slot))
    return 0;
  return (uint32_t)want;
}

int steps_grow(struct steps *q, uint32_t n, bool may_compact) {
  uint32_t head = q->head;
  uint32_t from = may_compact ? head : 0; /* first slot kept */
  uint32_t keep = q->count - from;
  uint8_t *kinds = steps_kinds(q);

  if (may_compact && head > 0 && (uint64_t)keep + n <= q->cap) {
    memmove(q->slots, q->slots + head, keep * sizeof(struct slot));
    memmove(kinds, kinds + head, keep);
    q->head = 0;
    q->count = keep;
    return 0;
  }
  uint32_t cap = capacity_for((uint64_t)keep + n);
  if (cap == 0)
    return DF_ENOMEM;
  size_t bytes = (size_t)cap * (1 + sizeof(struct slot));

  if (on_heap(q) && from == 0) {
    /* Grow in place; the slots move up past the longer run of kinds. */
    uint32_t old_cap = q->cap;
    uint8_t *block = df__realloc(block_of(q), bytes);
    if (block == NULL)
      return DF_ENOMEM;
    memmove(block + cap, block + old_cap, keep * sizeof(struct slot));
    q->slots = (struct slot *)(void *)(block + cap);
    q->cap = cap;
    return 0;
  }
  uint8_t *block = df__malloc(bytes);
  if (block == NULL)
    return DF_ENOMEM;
  struct slot *slots = (struct slot *)(void *)(block + cap);
  memcpy(slots, q->slots + from, keep * sizeof(struct slot));
  memcpy(block, kinds + from, keep);
  if (on_heap(q))
    df__free(block_of(q));
  q->slots = slots;
  q->cap = cap;
  q->head = head - from;
  q->count = keep;
  return 0;
}

bool steps_pop(struct steps *q, struct step *s) {
  uint32_t i = q->head;
  if (i >= q->count)
    return false;
  unsigned kind = steps_kinds(q)[i];
  const struct slot *sl = &q->slots[i];
  unsigned len = 1;

  s->kind = kind;
  s->cb_arg = s->eb_arg = sl->arg;
  s->arg_free = NULL;
  if (kind & K_PAIR) {
    s->cb = sl[0].f.fn;
    s->eb = sl[1].f.fn;
    s->eb_arg = sl[1].arg;
    len = 2;
  } else if (kind & K_FREE) {
    s->cb = s->eb = sl->f.fn;
  } else {
    s->cb = (kind & K_CB) ? sl->f.fn : NULL;
    s->eb = (kind & K_EB) ? sl->f.fn : NULL;
  }
  if (kind & K_FREE)
    s->arg_free = sl[len++].f.arg_free;
  q->head = i + len;
  if (q->head == q->count)
    steps_reset(q);
  return true;
}

void steps_free_args(const struct step *s) {
  if (s->arg_free == NULL)
    return;
  if (s->cb_arg != NULL)
    s->arg_free(s->cb_arg);
  if (s->eb_arg != NULL && s->eb_arg != s->cb_arg)
    s->arg_free(s->eb_arg);
}

void steps_discard(const struct step *s) {
  if (s->kind & (K_CONTINUE | K_CHAIN))
    df_unref(s->cb_arg);
  else
    steps_free_args(s);
}

void steps_release(struct steps *q) {
  struct step s;
  while (steps_pop(q, &s))
    steps_discard(&s);
  if (on_heap(q))
    df__free(block_of(q));
  steps_init(q);
}
