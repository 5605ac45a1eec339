/* The allocator hook: one place every allocation of the deferred libraries
 * goes through, so embedders can route memory and tests can fail the n-th
 * allocation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deferred/alloc.h"
#include "internal.h"

static void *(*malloc_impl)(size_t) = malloc;
static void *(*realloc_impl)(void *, size_t) = realloc;
static void (*free_impl)(void *) = free;

int df_replace_allocator(void *(*malloc_fn)(size_t),
                         void *(*realloc_fn)(void *, size_t),
                         void (*free_fn)(void *)) {
  if (malloc_fn == NULL && realloc_fn == NULL && free_fn == NULL) {
    malloc_impl = malloc;
    realloc_impl = realloc;
    free_impl = free;
    return 0;
  }
  if (malloc_fn == NULL || realloc_fn == NULL || free_fn == NULL)
    return DF_EINVAL;
  malloc_impl = malloc_fn;
  realloc_impl = realloc_fn;
  free_impl = free_fn;
  return 0;
}

void *df_malloc(size_t size) { return malloc_impl(size); }

void *df_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size)
    return NULL;
  void *p = malloc_impl(count * size);
  if (p != NULL)
    memset(p, 0, count * size);
  return p;
}

void *df_realloc(void *ptr, size_t size) { return realloc_impl(ptr, size); }

void df_free(void *ptr) {
  if (ptr != NULL)
    free_impl(ptr);
}

char *df_strdup(const char *s) {
  size_t len = strlen(s) + 1;
  char *copy = malloc_impl(len);
  if (copy != NULL)
    memcpy(copy, s, len);
  return copy;
}
