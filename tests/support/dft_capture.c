/* What the tests observe: a trace of tokens, the printed output of the
 * article's programs, stderr, and the reports of the two hooks. */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dft.h"
#include "dft_private.h"

static char trace_buf[16384];
static size_t trace_len;
static char print_buf[16384];
static size_t print_len;

static void append(char *buf, size_t cap, size_t *len, const char *fmt,
                   va_list ap) DF_PRINTF(4, 0);

static void append(char *buf, size_t cap, size_t *len, const char *fmt,
                   va_list ap) {
  if (*len >= cap - 1)
    return;
  int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
  if (n > 0)
    *len += (size_t)n < cap - *len ? (size_t)n : cap - 1 - *len;
}

void dft_trace(const char *fmt, ...) {
  va_list ap;
  if (trace_len > 0 && trace_len < sizeof trace_buf - 1)
    trace_buf[trace_len++] = ' ';
  va_start(ap, fmt);
  append(trace_buf, sizeof trace_buf, &trace_len, fmt, ap);
  va_end(ap);
  trace_buf[trace_len] = '\0';
}

const char *dft_trace_text(void) { return trace_buf; }

void dft_print(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  append(print_buf, sizeof print_buf, &print_len, fmt, ap);
  va_end(ap);
  if (print_len < sizeof print_buf - 1)
    print_buf[print_len++] = '\n';
  print_buf[print_len] = '\0';
}

const char *dft_printed(void) { return print_buf; }

/* ------------------------------------------------------------ repr */

static size_t put(char *buf, size_t len, size_t at, const char *s) {
  size_t n = strlen(s);
  for (size_t i = 0; i < n && at + 1 < len; i++)
    buf[at++] = s[i];
  if (len > 0)
    buf[at < len ? at : len - 1] = '\0';
  return at;
}

static size_t repr_into(df_result r, char *buf, size_t len, size_t at);

static size_t repr_value(df_result r, char *buf, size_t len, size_t at) {
  char tmp[64];
  df_free_fn release = df_result_release_fn(r);
  if (r.ptr == NULL)
    return put(buf, len, at, "None");
  if (release == df_list_result_free) {
    const df_list_result *l = r.ptr;
    at = put(buf, len, at, "[");
    for (size_t i = 0; i < l->count; i++) {
      at = put(buf, len, at, i == 0 ? "(" : ", (");
      at = put(buf, len, at, l->entries[i].success ? "True, " : "False, ");
      at = repr_into(l->entries[i].result, buf, len, at);
      at = put(buf, len, at, ")");
    }
    return put(buf, len, at, "]");
  }
  if (release == df_list_first_free) {
    const df_list_first *f = r.ptr;
    at = put(buf, len, at, "(");
    at = repr_into(f->result, buf, len, at);
    snprintf(tmp, sizeof tmp, ", %zu)", f->index);
    return put(buf, len, at, tmp);
  }
  const char *text = release == dft_shared_release
                         ? ((const dft_shared *)r.ptr)->text
                         : (const char *)r.ptr;
  at = put(buf, len, at, "'");
  at = put(buf, len, at, text);
  return put(buf, len, at, "'");
}

static size_t repr_into(df_result r, char *buf, size_t len, size_t at) {
  switch (df_result_kind(r)) {
  case DF_VALUE:
    return repr_value(r, buf, len, at);
  case DF_FAILURE: {
    const df_failure *f = r.ptr;
    const df_error_type *t = df_failure_type(f);
    at = put(buf, len, at, "<");
    at = put(buf, len, at, t != NULL ? t->name : "?");
    /* Cancelled failures carry no message in Twisted; the library's own
     * wording is not part of the contract. */
    if (t != &DF_CANCELLED) {
      at = put(buf, len, at, ": ");
      at = put(buf, len, at, df_failure_message(f));
    }
    return put(buf, len, at, ">");
  }
  case DF_DEFERRED:
    return put(buf, len, at, "<Deferred>");
  }
  return put(buf, len, at, "?");
}

const char *dft_repr(df_result r, char *buf, size_t len) {
  if (len > 0)
    buf[0] = '\0';
  repr_into(r, buf, len, 0);
  return buf;
}

/* ------------------------------------------------------------ stderr */

static FILE *err_file;
static int err_saved = -1;
static char err_buf[16384];

void dft_stderr_begin(void) {
  fflush(stderr);
  err_file = tmpfile();
  if (err_file == NULL)
    return;
  err_saved = dup(STDERR_FILENO);
  dup2(fileno(err_file), STDERR_FILENO);
}

const char *dft_stderr_end(void) {
  err_buf[0] = '\0';
  if (err_file == NULL)
    return err_buf;
  fflush(stderr);
  dup2(err_saved, STDERR_FILENO);
  close(err_saved);
  err_saved = -1;
  rewind(err_file);
  size_t n = fread(err_buf, 1, sizeof err_buf - 1, err_file);
  err_buf[n] = '\0';
  fclose(err_file);
  err_file = NULL;
  return err_buf;
}

/* ------------------------------------------------------------ reports */

static int unhandled_count;
static dft_unhandled_report unhandled_last;
static int already_count;
static dft_already_report already_last;

static void copy(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* Both reports say where the Deferred was made and fired the same way;
 * \p w is left zeroed (has_where false) when debug mode was off. */
static void copy_where(dft_where_report *w, const df_debug_info *where) {
  w->has_where = where != NULL;
  if (where == NULL)
    return;
  copy(w->created_file, sizeof w->created_file, where->created_file);
  w->created_line = where->created_line;
  w->has_fired = where->fired_file != NULL;
  copy(w->fired_file, sizeof w->fired_file, where->fired_file);
  w->fired_line = where->fired_line;
}

static void on_unhandled(const df_failure *f, const df_debug_info *where,
                         void *arg) {
  (void)arg;
  dft_unhandled_report *r = &unhandled_last;
  memset(r, 0, sizeof *r);
  r->type = df_failure_type(f);
  r->code = df_failure_code(f);
  copy(r->message, sizeof r->message, df_failure_message(f));
  copy(r->file, sizeof r->file, df_failure_file(f));
  r->line = df_failure_line(f);
  copy_where(&r->where, where);
  unhandled_count++;
}

static void on_already(const df_debug_info *where, const char *file, int line,
                       void *arg) {
  (void)arg;
  dft_already_report *r = &already_last;
  memset(r, 0, sizeof *r);
  copy_where(&r->where, where);
  copy(r->file, sizeof r->file, file);
  r->line = line;
  already_count++;
}

int dft_take_unhandled(void) {
  int n = unhandled_count;
  unhandled_count = 0;
  return n;
}

const dft_unhandled_report *dft_last_unhandled(void) { return &unhandled_last; }

int dft_take_already(void) {
  int n = already_count;
  already_count = 0;
  return n;
}

const dft_already_report *dft_last_already(void) { return &already_last; }

void dft_hooks_install(void) {
  df_set_unhandled_hook(on_unhandled, NULL);
  df_set_already_called_hook(on_already, NULL);
}

bool dft_path_is(const char *path, const char *base) {
  size_t n = strlen(path), b = strlen(base);
  if (n < b || strcmp(path + n - b, base) != 0)
    return false;
  return n == b || path[n - b - 1] == '/';
}

void dft_assert_where(const dft_where_report *w, const char *base,
                      int created_line, int fired_line) {
  CU_ASSERT(w->has_where);
  CU_ASSERT(dft_path_is(w->created_file, base));
  CU_ASSERT_EQUAL(w->created_line, created_line);
  CU_ASSERT(w->has_fired);
  CU_ASSERT(dft_path_is(w->fired_file, base));
  CU_ASSERT_EQUAL(w->fired_line, fired_line);
}

void dft_capture_reset(void) {
  trace_len = 0;
  trace_buf[0] = '\0';
  print_len = 0;
  print_buf[0] = '\0';
  unhandled_count = 0;
  already_count = 0;
  memset(&unhandled_last, 0, sizeof unhandled_last);
  memset(&already_last, 0, sizeof already_last);
}
