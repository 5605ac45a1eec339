/* Debug mode and the two reports a Deferred can make: an unhandled failure
 * at release (S09) and a refused second fire (S10). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int df__debugging;

static df_unhandled_fn unhandled_hook;
static void *unhandled_arg;
static df_already_called_fn already_called_hook;
static void *already_called_arg;

/* DF_DEBUG=1 turns debug mode on before main() runs, so no hot path ever
 * has to look at the environment. */
DF__CONSTRUCTOR static void read_debug_environment(void) {
  const char *v = getenv("DF_DEBUG");
  if (v != NULL && v[0] != '\0' && strcmp(v, "0") != 0)
    df__debugging = 1;
}

void df_set_debugging(bool on) { df__debugging = on ? 1 : 0; }

bool df_get_debugging(void) { return df__debugging != 0; }

void df_set_unhandled_hook(df_unhandled_fn fn, void *arg) {
  unhandled_hook = fn;
  unhandled_arg = fn != NULL ? arg : NULL;
}

void df_set_already_called_hook(df_already_called_fn fn, void *arg) {
  already_called_hook = fn;
  already_called_arg = fn != NULL ? arg : NULL;
}

static void print_where(const df_debug_info *where) {
  if (where == NULL) {
    fputs(
        "  (set DF_DEBUG=1 to see where the Deferred was created and fired)\n",
        stderr);
    return;
  }
  fprintf(stderr, "  Deferred created at %s:%d\n",
          where->created_file != NULL ? where->created_file : "?",
          where->created_line);
  if (where->fired_file != NULL)
    fprintf(stderr, "  first fired at %s:%d\n", where->fired_file,
            where->fired_line);
}

void df__report_unhandled(const df_failure *f, const df_debug_info *where) {
  if (unhandled_hook != NULL) {
    unhandled_hook(f, where, unhandled_arg);
    return;
  }
  char line[512];
  df_failure_describe(f, line, sizeof line);
  fprintf(stderr, "Unhandled error in Deferred:\n  %s\n", line);
  print_where(where);
}

void df__report_already_called(const df_debug_info *where, const char *file,
                               int line) {
  if (already_called_hook != NULL) {
    already_called_hook(where, file, line, already_called_arg);
    return;
  }
  fprintf(stderr, "AlreadyCalled: Deferred fired again at %s:%d\n",
          file != NULL ? file : "?", line);
  print_where(where);
}
