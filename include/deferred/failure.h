/*! \file deferred/failure.h
 *  \brief df_failure: the C counterpart of Twisted's Failure.
 *
 *  A failure has a type, an integer code, a message and the place it was
 *  created (file, line, function), plus an optional cause (the member's
 *  failure inside a FirstError). Failures are immutable once made and
 *  reference counted, so one failure can travel down several chains at once
 *  (a DeferredList and its member, S22). The count is atomic: a failure made
 *  on a worker thread may be handed to the reactor thread.
 *
 *  Error types form a hierarchy like exception classes. A type is a static
 *  value compared by address:
 *  \code
 *  static const df_error_type MY_ERROR = { "MyError", &DF_ERROR };
 *  \endcode
 *  df_failure_check() matches a type or any of its subtypes (S07).
 */
#ifndef DEFERRED_FAILURE_H
#define DEFERRED_FAILURE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/*! An error type: a name and the type it derives from (NULL for the root). */
typedef struct df_error_type {
  const char *name;                 /*!< e.g. "DF_CANCELLED" */
  const struct df_error_type *base; /*!< the parent type, NULL for the root */
} df_error_type;

/*! Built-in types. DF_ERROR is the root of all of them. */
DF_EXTERN extern const df_error_type DF_ERROR;
/*! The Deferred was cancelled (S16). Code 0. */
DF_EXTERN extern const df_error_type DF_CANCELLED;
/*! A second fire of a Deferred (S10), seen inside a chain (chainDeferred onto
 *  a Deferred that already fired, R6.2). */
DF_EXTERN extern const df_error_type DF_ALREADY_CALLED;
/*! A timeout (S29). Code: the timeout in milliseconds. */
DF_EXTERN extern const df_error_type DF_TIMEOUT;
/*! A DeferredList member failed (S24, S25). Code: the member's index;
 *  df_failure_cause() returns the member's failure. */
DF_EXTERN extern const df_error_type DF_FIRST_ERROR;
/*! Bad input to a library call; the message names the argument. */
DF_EXTERN extern const df_error_type DF_INVALID_ARGUMENT;
/*! A system call failed. Code: errno. */
DF_EXTERN extern const df_error_type DF_SYSTEM;
/*! The pool was closed before or while the job was queued. */
DF_EXTERN extern const df_error_type DF_POOL_CLOSED;
/*! The pool's queue is full (backpressure). */
DF_EXTERN extern const df_error_type DF_POOL_FULL;
/*! A DNS lookup failed. Code: the c-ares status. */
DF_EXTERN extern const df_error_type DF_DNS;
/*! A TCP connect failed. Code: errno. */
DF_EXTERN extern const df_error_type DF_CONNECT;
/*! Memory ran out while the library was making a result. */
DF_EXTERN extern const df_error_type DF_NO_MEMORY;

/*! An opaque, reference-counted failure. */
typedef struct df_failure df_failure;

/*! \brief Makes a failure; use the df_failure_new() macro, which fills in the
 *  place it is called from.
 *  \param type  the error type; NULL is taken as DF_ERROR.
 *  \param code  a type-specific integer (errno, timeout ms, index, ...).
 *  \param cause an optional failure this one wraps; a new reference is taken.
 *  \param fmt   printf-style message; NULL gives an empty message.
 *  \return a new reference, never NULL: when memory runs out a shared,
 *          static DF_NO_MEMORY failure is returned instead.
 *  Thread-safe.
 *  \param file where the failure is made, set by the macros.
 *  \param line the line in \p file.
 *  \param func the function, set by the macros. */
DF_EXTERN df_failure *df_failure_new_at(const df_error_type *type, int code,
                                        df_failure *cause, const char *file,
                                        int line, const char *func,
                                        const char *fmt, ...) DF_PRINTF(7, 8);

/*! df_failure_new(type, code, fmt, ...): a failure created here. */
#define df_failure_new(type, code, ...)                                        \
  df_failure_new_at((type), (code), NULL, __FILE__, __LINE__, __func__,        \
                    __VA_ARGS__)

/*! df_failure_new_caused(type, code, cause, fmt, ...): a failure wrapping
 *  \p cause (a new reference to it is taken). */
#define df_failure_new_caused(type, code, cause, ...)                          \
  df_failure_new_at((type), (code), (cause), __FILE__, __LINE__, __func__,     \
                    __VA_ARGS__)

/*! \brief Adds a reference. \return \p f (NULL stays NULL). Thread-safe.
 *  \param f borrowed; NULL stays NULL. */
DF_EXTERN df_failure *df_failure_ref(df_failure *f);

/*! \brief Drops a reference; the last one frees the failure and its cause.
 *  NULL is a no-op. Thread-safe.
 *  \param f the reference dropped; NULL is a no-op. */
DF_EXTERN void df_failure_unref(df_failure *f);

/* Accessors. Each takes a borrowed failure; NULL gives NULL, 0 or "".
 * Strings are borrowed from the failure. Thread-safe. */
/*! \param f borrowed. \return its type, or NULL. */
DF_EXTERN const df_error_type *df_failure_type(const df_failure *f);
/*! \param f borrowed. \return its code, or 0. */
DF_EXTERN int df_failure_code(const df_failure *f);
/*! \param f borrowed. \return its message (borrowed), or "". */
DF_EXTERN const char *df_failure_message(const df_failure *f);
/*! \param f borrowed. \return the file where it was made, or "". */
DF_EXTERN const char *df_failure_file(const df_failure *f);
/*! \param f borrowed. \return the line where it was made, or 0. */
DF_EXTERN int df_failure_line(const df_failure *f);
/*! \param f borrowed. \return the function where it was made, or "". */
DF_EXTERN const char *df_failure_func(const df_failure *f);
/*! The wrapped failure (borrowed), or NULL.
 *  \param f borrowed; NULL gives NULL.
 *  \return the cause, borrowed from \p f, or NULL. */
DF_EXTERN df_failure *df_failure_cause(const df_failure *f);

/*! \brief True when \p type is \p base or derives from it. NULLs give false.
 *  \param type the type tested.
 *  \param base the type it may derive from.
 *  \return whether \p type is \p base or derives from it. */
DF_EXTERN bool df_error_type_is(const df_error_type *type,
                                const df_error_type *base);

/*! \brief S07 check: the first of the NULL-terminated list of types that \p f
 *  is an instance of (subtypes match), or NULL when none is.
 *  \param f borrowed; NULL gives NULL.
 *  \return the matching type from the list, or NULL. */
DF_EXTERN const df_error_type *df_failure_check(const df_failure *f, ...);

/*! \brief Renders one line, "Type: message (code N) at file:line in func",
 *  into \p buf (always NUL-terminated when \p len > 0), followed by
 *  " <- caused by ..." for each cause.
 *  \return the length the full line needs, like snprintf.
 *  \param f borrowed; NULL renders "(null)".
 *  \param buf receives the line.
 *  \param len bytes of \p buf. */
DF_EXTERN size_t df_failure_describe(const df_failure *f, char *buf,
                                     size_t len);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_FAILURE_H */
