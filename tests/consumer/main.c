/* Uses the installed headers and library: one chain, one list. */
#include <deferred.h>
#include <stdio.h>
#include <string.h>

static df_result shout(df_result in, void *arg) {
  (void)arg;
  printf("consumer: %s\n", (const char *)in.ptr);
  return in;
}

int main(void) {
  df_deferred *d = df_deferred_new(NULL, NULL);
  df_add_callback(d, shout, NULL);
  df_deferred *list = df_list(&d, 1, 0);
  df_callback(d, "fired", NULL);
  df_result r;
  int ok = df_peek(list, &r) && ((df_list_result *)r.ptr)->count == 1;
  df_unref(list);
  df_unref(d);
  return ok && strcmp(df_strerror(DF_EALREADY), "Deferred already fired") == 0
             ? 0
             : 1;
}
