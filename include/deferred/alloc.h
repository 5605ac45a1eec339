/*! \file deferred/alloc.h
 *  \brief The one allocator of every deferred library, and the hook that
 *  replaces it.
 *
 *  Every allocation that libdeferred, libdeferred_pool and libdeferred_dns
 *  make goes through df_malloc(), df_realloc() and df_free(), so one call to
 *  df_replace_allocator() routes all of them: to an arena of an embedder, or
 *  to a test allocator that fails the n-th allocation. Memory handed to the
 *  library to free (a value released by df_free through a df_ok() free
 *  function, say) may come from df_malloc() too.
 *
 *  Outside the hook, by nature: thread stacks (pthread_create()), kernel
 *  objects (sockets, pipes, epoll), and what the C library allocates inside
 *  its own calls.
 */
#ifndef DEFERRED_ALLOC_H
#define DEFERRED_ALLOC_H

#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! \brief Replaces the allocator used for every allocation the deferred
 *  libraries make.
 *
 *  Call it before the library allocates anything, or after everything it
 *  allocated has been freed: memory must be released by the allocator that
 *  made it.
 *  \param malloc_fn, realloc_fn, free_fn all three or none: passing three
 *         NULLs restores the C library's functions. The functions must be
 *         thread-safe: pool workers allocate too.
 *  \return 0, or DF_EINVAL when only some of the three are NULL.
 *  Not thread-safe: call it while no other thread uses the library. */
DF_EXTERN int df_replace_allocator(void *(*malloc_fn)(size_t),
                                   void *(*realloc_fn)(void *, size_t),
                                   void (*free_fn)(void *));

/*! \brief Allocates \p size bytes with the installed allocator.
 *  \return the block (release it with df_free()), or NULL when memory ran
 *          out. Thread-safe when the installed allocator is.
 *  \param size bytes wanted; 0 may return NULL or a unique block. */
DF_EXTERN void *df_malloc(size_t size);

/*! \brief Allocates \p count * \p size zeroed bytes.
 *  \return the block, or NULL when memory ran out or the product
 *          overflows. Thread-safe when the installed allocator is.
 *  \param count number of elements.
 *  \param size bytes per element. */
DF_EXTERN void *df_calloc(size_t count, size_t size);

/*! \brief Resizes \p ptr (NULL allocates) as realloc() does.
 *  \return the block, or NULL when memory ran out (\p ptr is then left
 *          untouched). Thread-safe when the installed allocator is.
 *  \param ptr a block of this allocator, or NULL.
 *  \param size the new size in bytes. */
DF_EXTERN void *df_realloc(void *ptr, size_t size);

/*! \brief Releases a block of df_malloc(), df_calloc(), df_realloc() or
 *  df_strdup(); NULL is a no-op. Thread-safe when the installed allocator
 *  is.
 *  \param ptr the block; NULL is a no-op. */
DF_EXTERN void df_free(void *ptr);

/*! \brief A copy of the string \p s, allocated by df_malloc().
 *  \param s must not be NULL.
 *  \return the copy, or NULL when memory ran out. */
DF_EXTERN char *df_strdup(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_ALLOC_H */
