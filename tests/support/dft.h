/* Support shared by the core suites: counted values, captured reports, a
 * trace of what ran, common steps, and the begin/end of a test that checks
 * everything was freed. */
#ifndef DFT_H
#define DFT_H

#include <CUnit/CUnit.h>
#include <deferred/alloc.h>
#include <deferred/deferred.h>
#include <deferred/list.h>
#include <stdbool.h>
#include <stddef.h>

#include "dft_alloc.h"

/* A string literal as a step argument (void *; the steps never write it). */
#define DFT_S(literal) ((void *)(literal))

/* ------------------------------------------------------------ test frame */

/* Runs one suite of core tests with the counting allocator and the capturing
 * hooks installed; returns the process exit status. Each test frames itself
 * (dft_begin() ... dft_end(), or a frame of its own). */
int dft_main(const char *suite, CU_TestInfo *tests);

/* dft_main() with every test framed by CUnit's setup and teardown:
 * dft_begin() before it, dft_end() after it (also after a fatal assertion
 * ended it). A test that needs a fresh baseline part-way (one per case of a
 * table, say) calls dft_begin() and dft_end() again inside. */
int dft_main_framed(const char *suite, CU_TestInfo *tests);

/* Starts a test: resets the trace and the captures, takes the baselines. */
void dft_begin(void);

/* Ends a test: asserts that every counted value, shared value and step
 * argument was freed, that the library holds no more memory than at
 * dft_begin(), and that no report was left unclaimed (dft_take_unhandled(),
 * dft_take_already()); then turns debug mode off and reinstalls the hooks. */
void dft_end(void);

/* ------------------------------------------------------------ values */

/* A counted copy of \p s; free it with dft_str_free (a df_free_fn). */
char *dft_str(const char *s);
void dft_str_free(void *s);
/* Strings made and not yet freed. */
long dft_str_live(void);
/* Strings freed since the last dft_begin(). */
long dft_str_frees(void);

/* A reference-counted string for df_ok_shared(). */
typedef struct dft_shared {
  int refs;
  char text[32];
} dft_shared;
dft_shared *dft_shared_new(const char *s);
void dft_shared_retain(void *s);
void dft_shared_release(void *s);
long dft_shared_live(void);
/* dft_shared_retain calls since the last dft_begin(). */
long dft_shared_retains(void);

/* A step argument with a destructor (df_arg_free_fn). */
void *dft_arg_new(const char *tag);
void dft_arg_free(void *arg);
const char *dft_arg_tag(const void *arg);
long dft_arg_live(void);
/* dft_arg_free calls since the last dft_begin(). */
long dft_arg_frees(void);

/* Error types of the tests, like exception classes of the Python programs. */
extern const df_error_type DFT_VALUE_ERROR;   /* ValueError < DF_ERROR */
extern const df_error_type DFT_RUNTIME_ERROR; /* RuntimeError < DF_ERROR */
extern const df_error_type DFT_SPAM_ERROR;    /* SpamError < DF_ERROR */
extern const df_error_type DFT_EGG_ERROR;     /* EggError < DF_ERROR */
extern const df_error_type DFT_TIN_ERROR;     /* TinnedSpamError < SpamError */

/* A failure of \p type with message \p msg made in the tests. */
df_result dft_failure(const df_error_type *type, const char *msg);

/* ------------------------------------------------------------ trace */

/* Appends one space-separated token (printf format) to the trace. */
void dft_trace(const char *fmt, ...) DF_PRINTF(1, 2);
const char *dft_trace_text(void);

/* The captured output of the article's programs: dft_print appends one line
 * (a trailing newline is added). */
void dft_print(const char *fmt, ...) DF_PRINTF(1, 2);
const char *dft_printed(void);

/* Python-like repr of a result: 'text', None, [(True, 'a'), ...],
 * ('a', 0), or <TypeName: message> for a failure (<Cancelled> for a
 * cancellation, whatever its message). Values are taken to be
 * C strings, list results or first results (told apart by free function). */
const char *dft_repr(df_result r, char *buf, size_t len);

/* Everything written to stderr between begin and end (the text is returned
 * and valid until the next capture). */
void dft_stderr_begin(void);
const char *dft_stderr_end(void);

/* ------------------------------------------------------------ reports */

/* Where a Deferred was made and fired, as a debug-mode report gives it. */
typedef struct dft_where_report {
  bool has_where; /* false when debug mode was off */
  char created_file[256];
  int created_line;
  bool has_fired;
  char fired_file[256];
  int fired_line;
} dft_where_report;

typedef struct dft_unhandled_report {
  const df_error_type *type;
  int code;
  char message[256];
  char file[256];
  int line;
  dft_where_report where;
} dft_unhandled_report;

/* Unhandled-failure reports since the last take; the count is reset. */
int dft_take_unhandled(void);
/* The most recent unhandled report (kept across takes). */
const dft_unhandled_report *dft_last_unhandled(void);

typedef struct dft_already_report {
  dft_where_report where;
  char file[256]; /* where the refused fire was made */
  int line;
} dft_already_report;

/* AlreadyCalled reports since the last take; the count is reset. */
int dft_take_already(void);
const dft_already_report *dft_last_already(void);

/* Installs the capturing hooks (dft_begin does it). */
void dft_hooks_install(void);

/* True when \p path ends with \p base (a file name). */
bool dft_path_is(const char *path, const char *base);

/* Asserts that \p w names a Deferred made at \p base:\p created_line and
 * first fired at \p base:\p fired_line (base: a file name, dft_path_is). */
void dft_assert_where(const dft_where_report *w, const char *base,
                      int created_line, int fired_line);

/* ------------------------------------------------------------ steps */

/* Traces "tag=repr(in)" (arg: the tag) and returns \p in. */
df_result dft_cb_trace(df_result in, void *arg);
/* Like dft_cb_trace, but a failure shows as tag=<TypeName> only. */
df_result dft_cb_trace_type(df_result in, void *arg);
/* Returns a counted string: repr-free text of in followed by arg. */
df_result dft_cb_append(df_result in, void *arg);
/* Frees \p in, returns a DFT_RUNTIME_ERROR failure with message arg. */
df_result dft_cb_fail(df_result in, void *arg);
/* Frees \p in, returns a counted copy of arg (or a NULL value if arg is
 * NULL). */
df_result dft_cb_value(df_result in, void *arg);
/* Frees \p in, returns df_wait(arg). */
df_result dft_cb_wait(df_result in, void *arg);
/* Frees \p in and returns a borrowed NULL value (an errback that handles). */
df_result dft_cb_none(df_result in, void *arg);

/* Kind and text of a peeked result. */
bool dft_peek_is_value(const df_deferred *d, const char *text);
bool dft_peek_is_none(const df_deferred *d);
bool dft_peek_is_failure(const df_deferred *d, const df_error_type *type);

/* Asserts that \p d holds a failure of \p type, then handles it (so that it
 * is not reported as unhandled) and drops the caller's reference to \p d. */
void dft_release_failed(df_deferred *d, const df_error_type *type);

#endif
