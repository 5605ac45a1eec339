/* Counted values: every test checks that each value it made was freed
 * exactly once (a double free shows as a negative live count, and under
 * ASan or valgrind as an error). */
#include <stdlib.h>
#include <string.h>

#include "dft.h"
#include "dft_private.h"

static long str_made, str_freed, str_freed_base;
static long shared_made, shared_freed, shared_retains, shared_retains_base;
static long arg_made, arg_freed, arg_freed_base;

const df_error_type DFT_VALUE_ERROR = {"ValueError", &DF_ERROR};
const df_error_type DFT_RUNTIME_ERROR = {"RuntimeError", &DF_ERROR};
const df_error_type DFT_SPAM_ERROR = {"SpamError", &DF_ERROR};
const df_error_type DFT_EGG_ERROR = {"EggError", &DF_ERROR};
const df_error_type DFT_TIN_ERROR = {"TinnedSpamError", &DFT_SPAM_ERROR};

char *dft_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *copy = malloc(n);
  if (copy == NULL)
    abort();
  memcpy(copy, s, n);
  str_made++;
  return copy;
}

void dft_str_free(void *s) {
  if (s == NULL)
    return;
  str_freed++;
  free(s);
}

long dft_str_live(void) { return str_made - str_freed; }

long dft_str_frees(void) { return str_freed - str_freed_base; }

dft_shared *dft_shared_new(const char *s) {
  dft_shared *v = calloc(1, sizeof *v);
  if (v == NULL)
    abort();
  v->refs = 1;
  strncpy(v->text, s, sizeof v->text - 1);
  shared_made++;
  return v;
}

void dft_shared_retain(void *s) {
  ((dft_shared *)s)->refs++;
  shared_retains++;
}

void dft_shared_release(void *s) {
  dft_shared *v = s;
  if (v == NULL)
    return;
  if (--v->refs == 0) {
    shared_freed++;
    free(v);
  }
}

long dft_shared_live(void) { return shared_made - shared_freed; }

long dft_shared_retains(void) { return shared_retains - shared_retains_base; }

typedef struct dft_arg {
  const char *tag;
} dft_arg;

void *dft_arg_new(const char *tag) {
  dft_arg *a = malloc(sizeof *a);
  if (a == NULL)
    abort();
  a->tag = tag;
  arg_made++;
  return a;
}

void dft_arg_free(void *arg) {
  if (arg == NULL)
    return;
  arg_freed++;
  free(arg);
}

const char *dft_arg_tag(const void *arg) { return ((const dft_arg *)arg)->tag; }

long dft_arg_live(void) { return arg_made - arg_freed; }

long dft_arg_frees(void) { return arg_freed - arg_freed_base; }

df_result dft_failure(const df_error_type *type, const char *msg) {
  return df_fail(df_failure_new(type, 0, "%s", msg));
}

void dft_values_rebase(void) {
  str_freed_base = str_freed;
  shared_retains_base = shared_retains;
  arg_freed_base = arg_freed;
}
