/* Failures: immutable, reference counted (atomically: a worker thread may make
 * one that the reactor thread then owns), one allocation each with the
 * message stored inline. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "deferred/failure.h"
#include "internal.h"

const df_error_type DF_ERROR = {"Error", NULL};
const df_error_type DF_CANCELLED = {"Cancelled", &DF_ERROR};
const df_error_type DF_ALREADY_CALLED = {"AlreadyCalled", &DF_ERROR};
const df_error_type DF_TIMEOUT = {"Timeout", &DF_ERROR};
const df_error_type DF_FIRST_ERROR = {"FirstError", &DF_ERROR};
const df_error_type DF_INVALID_ARGUMENT = {"InvalidArgument", &DF_ERROR};
const df_error_type DF_SYSTEM = {"SystemError", &DF_ERROR};
const df_error_type DF_POOL_CLOSED = {"PoolClosed", &DF_ERROR};
const df_error_type DF_POOL_FULL = {"PoolFull", &DF_ERROR};
const df_error_type DF_DNS = {"DNSLookupError", &DF_ERROR};
const df_error_type DF_CONNECT = {"ConnectError", &DF_ERROR};
const df_error_type DF_NO_MEMORY = {"NoMemory", &DF_ERROR};

/* A count that never reaches zero marks the static out-of-memory failure. */
#define STATIC_REFS (1 << 30)

struct df_failure {
  atomic_int refs;
  int code;
  int line;
  const df_error_type *type;
  df_failure *cause;
  const char *file;
  const char *func;
  const char *message; /* points just past the struct, or to static text */
};

/* Handed out when a failure cannot be allocated, so that making a failure
 * never fails. Its message is fixed at compile time. */
static df_failure no_memory = {
    .refs = STATIC_REFS,
    .code = 12,
    .line = 0,
    .type = &DF_NO_MEMORY,
    .cause = NULL,
    .file = __FILE__,
    .func = "df_failure_new_at",
    .message = "out of memory",
};

df_failure *df_failure_new_at(const df_error_type *type, int code,
                              df_failure *cause, const char *file, int line,
                              const char *func, const char *fmt, ...) {
  char small[256];
  int len = 0;
  va_list ap;

  if (fmt != NULL) {
    va_start(ap, fmt);
    len = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (len < 0)
      len = 0;
  }
  df_failure *f = df__malloc(sizeof *f + (size_t)len + 1);
  if (f == NULL)
    return &no_memory;
  char *message = (char *)(f + 1);
  if (fmt == NULL) {
    message[0] = '\0';
  } else if ((size_t)len < sizeof small) {
    memcpy(message, small, (size_t)len + 1);
  } else {
    va_start(ap, fmt);
    vsnprintf(message, (size_t)len + 1, fmt, ap);
    va_end(ap);
  }
  f->message = message;
  atomic_init(&f->refs, 1);
  f->type = type != NULL ? type : &DF_ERROR;
  f->code = code;
  f->cause = df_failure_ref(cause);
  f->file = file != NULL ? file : "";
  f->line = line;
  f->func = func != NULL ? func : "";
  return f;
}

df_failure *df_failure_ref(df_failure *f) {
  if (f != NULL && f != &no_memory)
    atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
  return f;
}

void df_failure_unref(df_failure *f) {
  /* Causes are released in a loop, not recursively: nested FirstErrors can
   * be arbitrarily deep. */
  while (f != NULL && f != &no_memory) {
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
      return;
    df_failure *cause = f->cause;
    df__free(f);
    f = cause;
  }
}

const df_error_type *df_failure_type(const df_failure *f) {
  return f != NULL ? f->type : NULL;
}

int df_failure_code(const df_failure *f) { return f != NULL ? f->code : 0; }

const char *df_failure_message(const df_failure *f) {
  return f != NULL ? f->message : "";
}

const char *df_failure_file(const df_failure *f) {
  return f != NULL ? f->file : "";
}

int df_failure_line(const df_failure *f) { return f != NULL ? f->line : 0; }

const char *df_failure_func(const df_failure *f) {
  return f != NULL ? f->func : "";
}

df_failure *df_failure_cause(const df_failure *f) {
  return f != NULL ? f->cause : NULL;
}

bool df_error_type_is(const df_error_type *type, const df_error_type *base) {
  if (base == NULL)
    return false;
  for (; type != NULL; type = type->base)
    if (type == base)
      return true;
  return false;
}

const df_error_type *df_failure_check(const df_failure *f, ...) {
  const df_error_type *match = NULL;
  const df_error_type *candidate;
  va_list ap;

  if (f == NULL)
    return NULL;
  va_start(ap, f);
  while ((candidate = va_arg(ap, const df_error_type *)) != NULL) {
    if (df_error_type_is(f->type, candidate)) {
      match = candidate;
      break;
    }
  }
  va_end(ap);
  return match;
}

size_t df_failure_describe(const df_failure *f, char *buf, size_t len) {
  size_t need = 0;
  const char *sep = "";

  if (buf != NULL && len > 0)
    buf[0] = '\0';
  for (; f != NULL; f = f->cause) {
    char *at = buf != NULL && need < len ? buf + need : NULL;
    size_t room = at != NULL ? len - need : 0;
    int n =
        snprintf(at, room, "%s%s: %s (code %d) at %s:%d in %s", sep,
                 f->type->name, f->message, f->code, f->file, f->line, f->func);
    if (n > 0)
      need += (size_t)n;
    sep = " <- caused by ";
  }
  return need;
}
