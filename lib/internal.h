/* Internal declarations shared by the core's files. Not installed. */
#ifndef DF_INTERNAL_H
#define DF_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "deferred/alloc.h"
#include "deferred/deferred.h"
#include "deferred/failure.h"
#include "deferred/result.h"

#if defined(__GNUC__)
#define DF__LIKELY(x) __builtin_expect(!!(x), 1)
#define DF__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define DF__HIDDEN __attribute__((visibility("hidden")))
#define DF__NOINLINE __attribute__((noinline))
#define DF__CONSTRUCTOR __attribute__((constructor))
#else
#define DF__LIKELY(x) (x)
#define DF__UNLIKELY(x) (x)
#define DF__HIDDEN
#define DF__NOINLINE
#define DF__CONSTRUCTOR
#endif

#define DF__CONTAINER_OF(ptr, type, field)                                     \
  ((type *)(void *)((char *)(ptr)-offsetof(type, field)))

/* alloc.c: every allocation of the library goes through the public
 * allocator (deferred/alloc.h), so that df_replace_allocator() sees all of
 * them; the core's files use these short names. */
#define df__malloc df_malloc
#define df__calloc df_calloc
#define df__realloc df_realloc
#define df__free df_free
#define df__strdup df_strdup

/* debug.c: debug mode and the two reports. */
DF__HIDDEN extern int df__debugging;
DF__HIDDEN void df__report_unhandled(const df_failure *f,
                                     const df_debug_info *where);
DF__HIDDEN void df__report_already_called(const df_debug_info *where,
                                          const char *file, int line);

/* deferred.c: used by list.c. A Deferred whose canceller alone decides its
 * outcome: df_cancel() does not errback it with DF_CANCELLED afterwards
 * (Twisted's DeferredList.cancel). */
DF__HIDDEN void df__set_canceller_decides(df_deferred *d);
/* The canceller owns its argument: when d is released, the canceller is
 * called once more with d == NULL, to release the argument. */
DF__HIDDEN void df__set_canceller_owns_arg(df_deferred *d);

#endif /* DF_INTERNAL_H */
