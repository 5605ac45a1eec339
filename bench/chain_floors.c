/* The chain benchmark's floors. Each operation is kept out of line, as a
 * library's would be, so that the loop pays the calls ours pays. */
#include <stdlib.h>

#include "chain_floors.h"

#if defined(__GNUC__)
#define FLOOR_CALL __attribute__((noinline))
#else
#define FLOOR_CALL
#endif

df_result df_bench_count_cb(df_result in, void *arg) {
  (void)arg;
  in.ptr = (char *)in.ptr + 1;
  return in;
}

/* ---------------------------------------------------------------- array */

struct array_step {
  df_callback_fn fn;
  void *arg;
};

struct array_deferred {
  df_result result;
  struct array_step *steps;
  size_t count, cap;
};

FLOOR_CALL static struct array_deferred *array_new(void) {
  struct array_deferred *d = malloc(sizeof *d);
  if (d != NULL) {
    d->result = df_ok(NULL, NULL);
    d->steps = NULL;
    d->count = d->cap = 0;
  }
  return d;
}

FLOOR_CALL static int array_add(struct array_deferred *d, df_callback_fn fn,
                                void *arg) {
  if (d->count == d->cap) {
    size_t cap = d->cap ? 2 * d->cap : 4;
    struct array_step *steps = realloc(d->steps, cap * sizeof *steps);
    if (steps == NULL)
      return -1;
    d->steps = steps;
    d->cap = cap;
  }
  d->steps[d->count].fn = fn;
  d->steps[d->count++].arg = arg;
  return 0;
}

FLOOR_CALL static void array_fire(struct array_deferred *d, df_result r) {
  for (size_t i = 0; i < d->count; i++)
    r = d->steps[i].fn(r, d->steps[i].arg);
  d->count = 0;
  d->result = r;
}

FLOOR_CALL static void array_free(struct array_deferred *d) {
  df_result_free(d->result);
  free(d->steps);
  free(d);
}

int df_bench_floor_array(size_t n, uint64_t *counter) {
  struct array_deferred *d = array_new();
  if (d == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (array_add(d, df_bench_count_cb, NULL) != 0) {
      array_free(d);
      return -1;
    }
  }
  array_fire(d, df_ok(NULL, NULL));
  *counter += (uintptr_t)d->result.ptr;
  array_free(d);
  return 0;
}

/* ---------------------------------------------------------------- malloc */

struct malloc_step {
  struct malloc_step *next;
  df_callback_fn fn;
  void *arg;
};

struct malloc_deferred {
  df_result result;
  struct malloc_step *head, **tail;
};

FLOOR_CALL static struct malloc_deferred *malloc_new(void) {
  struct malloc_deferred *d = malloc(sizeof *d);
  if (d != NULL) {
    d->result = df_ok(NULL, NULL);
    d->head = NULL;
    d->tail = &d->head;
  }
  return d;
}

FLOOR_CALL static int malloc_add(struct malloc_deferred *d, df_callback_fn fn,
                                 void *arg) {
  struct malloc_step *s = malloc(sizeof *s);
  if (s == NULL)
    return -1;
  s->next = NULL;
  s->fn = fn;
  s->arg = arg;
  *d->tail = s;
  d->tail = &s->next;
  return 0;
}

FLOOR_CALL static void malloc_fire(struct malloc_deferred *d, df_result r) {
  struct malloc_step *s = d->head;
  while (s != NULL) {
    struct malloc_step *next = s->next;
    r = s->fn(r, s->arg);
    free(s);
    s = next;
  }
  d->head = NULL;
  d->tail = &d->head;
  d->result = r;
}

FLOOR_CALL static void malloc_free(struct malloc_deferred *d) {
  struct malloc_step *s = d->head;
  while (s != NULL) {
    struct malloc_step *next = s->next;
    free(s);
    s = next;
  }
  df_result_free(d->result);
  free(d);
}

int df_bench_floor_malloc(size_t n, uint64_t *counter) {
  struct malloc_deferred *d = malloc_new();
  if (d == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (malloc_add(d, df_bench_count_cb, NULL) != 0) {
      malloc_free(d);
      return -1;
    }
  }
  malloc_fire(d, df_ok(NULL, NULL));
  *counter += (uintptr_t)d->result.ptr;
  malloc_free(d);
  return 0;
}

/* ---------------------------------------------------------------- calls */

static struct array_step *table;
static size_t table_size;

int df_bench_floor_calls_prepare(size_t max_n) {
  if (max_n <= table_size)
    return 0;
  struct array_step *t = realloc(table, max_n * sizeof *t);
  if (t == NULL)
    return -1;
  for (size_t i = 0; i < max_n; i++) {
    t[i].fn = df_bench_count_cb;
    t[i].arg = NULL;
  }
  table = t;
  table_size = max_n;
  return 0;
}

FLOOR_CALL static df_result calls_run(const struct array_step *t, size_t n,
                                      df_result r) {
  for (size_t i = 0; i < n; i++)
    r = t[i].fn(r, t[i].arg);
  return r;
}

int df_bench_floor_calls(size_t n, uint64_t *counter) {
  if (n > table_size)
    return -1;
  *counter += (uintptr_t)calls_run(table, n, df_ok(NULL, NULL)).ptr;
  return 0;
}
