/* Uses the installed remote-jobs library: bytes, the failure types, and a
 * caller that cannot connect (nothing listens on port 1), freed cleanly. */
#include <deferred.h>
#include <string.h>

int main(void) {
  df_bytes *b = df_bytes_new("abc", 3);
  int ok =
      b != NULL && b->len == 3 && strcmp((const char *)b->data, "abc") == 0;
  df_bytes_free(b);
  df_reactor *r = NULL;
  df_remote *rc = NULL;
  df_remote_options o = {.servers = "nats://127.0.0.1:1",
                         .connect_timeout = 0.5};
  ok = ok && df_reactor_new(&r, NULL) == 0 && df_remote_new(&rc, r, &o) == 0;
  ok = ok && df_remote_free(rc) == 0 && df_reactor_free(r) == 0;
  df_remote_library_close();
  return ok && strcmp(DF_REMOTE_CONNECTION.name, "RemoteConnectionError") == 0
             ? 0
             : 1;
}
