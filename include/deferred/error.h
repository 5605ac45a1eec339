/*! \file deferred/error.h
 *  \brief Synchronous error codes and the export macro.
 *
 *  Every function of the library that can fail synchronously returns 0 or a
 *  negative code. The codes below are `-errno` values where an errno exists,
 *  so a failed system call can be returned as `-errno` unchanged;
 *  df_strerror() and df_err_name() name every code of the table and fall back
 *  to the C library's text for any other negative errno value.
 */
#ifndef DEFERRED_ERROR_H
#define DEFERRED_ERROR_H

#include <stddef.h>

/*! \def DF_EXTERN
 *  Marks a function or object exported by the shared libraries. */
#if defined(_WIN32)
#define DF_EXTERN __declspec(dllexport)
#elif defined(__GNUC__)
#define DF_EXTERN __attribute__((visibility("default")))
#else
#define DF_EXTERN
#endif

/*! \def DF_PRINTF
 *  Lets the compiler check a printf-style format: argument \p fmt_index is
 *  the format, arguments from \p first_arg on are its values. */
#if defined(__GNUC__)
#define DF_PRINTF(fmt_index, first_arg)                                        \
  __attribute__((format(printf, fmt_index, first_arg)))
#else
#define DF_PRINTF(fmt_index, first_arg)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*! The table of codes: XX(name, value, message). */
#define DF_ERRNO_MAP(XX)                                                       \
  XX(EINVAL, -22, "invalid argument")                                          \
  XX(ENOMEM, -12, "out of memory")                                             \
  XX(EALREADY, -114, "Deferred already fired")                                 \
  XX(EBUSY, -16, "resource busy")                                              \
  XX(EAGAIN, -11, "resource temporarily unavailable")                          \
  XX(ENOTPAUSED, -10001, "unpause without a matching pause")                   \
  XX(ECLOSED, -10002, "object is closed")

/*! Error codes returned by the library's functions. */
typedef enum df_errno {
/* The expansion ends with a comma clang-format cannot see: without this
 * it would indent DF_OK as a continuation. */
/* clang-format off */
#define DF__ERR_ENUM(name, value, msg) DF_##name = (value),
  DF_ERRNO_MAP(DF__ERR_ENUM)
#undef DF__ERR_ENUM
  DF_OK = 0
  /* clang-format on */
} df_errno;

/*! \brief A sentence describing \p code.
 *  \param code 0, a DF_ code, or any negative errno value.
 *  \return a static string; never NULL ("unknown error" for positive codes).
 *  Thread-safe. */
DF_EXTERN const char *df_strerror(int code);

/*! \brief The symbolic name of \p code ("DF_EINVAL", "DF_OK", or "unknown").
 *  \return a static string; never NULL. Thread-safe.
 *  \param code 0, a DF_ code, or any negative errno value. */
DF_EXTERN const char *df_err_name(int code);

#ifdef __cplusplus
}
#endif

#endif /* DEFERRED_ERROR_H */
