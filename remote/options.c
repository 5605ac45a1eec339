/* Options shared by callers and workers, with their defaults, and the small
 * string and clock helpers of the layer. */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <string.h>
#include <time.h>

#include "remote_internal.h"

bool df__token_ok(const char *s) {
  if (s == NULL || s[0] == '\0' || strlen(s) > 128) {
    return false;
  }
  for (const char *p = s; *p != '\0'; p++) {
    char c = *p;
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

/* A prefix is one or more tokens joined by dots. */
static bool prefix_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 128 || s[0] == '.' || s[n - 1] == '.' ||
      strstr(s, "..") != NULL) {
    return false;
  }
  char token[129];
  for (const char *p = s; *p != '\0';) {
    size_t len = strcspn(p, ".");
    memcpy(token, p, len);
    token[len] = '\0';
    if (!df__token_ok(token)) {
      return false;
    }
    p += len;
    if (*p == '.') {
      p++;
    }
  }
  return true;
}

int64_t df__wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *df__concat(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = c != NULL ? strlen(c) : 0;
  char *s = df_malloc(la + lb + lc + 1);
  if (s != NULL) {
    memcpy(s, a, la);
    memcpy(s + la, b, lb);
    if (lc > 0) {
      memcpy(s + la + lb, c, lc);
    }
    s[la + lb + lc] = '\0';
  }
  return s;
}

/* Seconds to milliseconds, \p fallback for 0; -1 for a bad time. */
static int64_t ms_or(double seconds, double fallback) {
  if (isnan(seconds) || seconds < 0 || seconds > 1e9) {
    return -1;
  }
  double s = seconds == 0 ? fallback : seconds;
  int64_t ms = (int64_t)(s * 1000.0 + 0.5);
  return ms < 1 ? 1 : ms;
}

int df__ropts_init(df__ropts *o, const df_remote_options *in) {
  static const df_remote_options none;
  if (in == NULL) {
    in = &none;
  }
  memset(o, 0, sizeof *o);
  const char *stream =
      in->stream != NULL ? in->stream : DF_REMOTE_DEFAULT_STREAM;
  const char *prefix = in->subject_prefix != NULL ? in->subject_prefix
                                                  : DF_REMOTE_DEFAULT_PREFIX;
  o->connect_timeout_ms =
      ms_or(in->connect_timeout, DF_REMOTE_DEFAULT_CONNECT_TIMEOUT);
  o->timeout_ms = ms_or(in->timeout, DF_REMOTE_DEFAULT_TIMEOUT);
  o->reconnect_wait_ms =
      ms_or(in->reconnect_wait, DF_REMOTE_DEFAULT_RECONNECT_WAIT);
  o->ack_wait_ms = ms_or(in->ack_wait, DF_REMOTE_DEFAULT_ACK_WAIT);
  o->max_reconnect = in->max_reconnect == 0 ? DF_REMOTE_DEFAULT_MAX_RECONNECT
                                            : in->max_reconnect;
  o->max_deliver =
      in->max_deliver == 0 ? DF_REMOTE_DEFAULT_MAX_DELIVER : in->max_deliver;
  if (!df__token_ok(stream) || !prefix_ok(prefix) ||
      o->connect_timeout_ms < 0 || o->timeout_ms < 0 ||
      o->reconnect_wait_ms < 0 || o->ack_wait_ms < 0 || o->max_deliver < 1) {
    return DF_EINVAL;
  }
  o->servers =
      df_strdup(in->servers != NULL ? in->servers : "nats://127.0.0.1:4222");
  o->stream = df_strdup(stream);
  o->prefix = df_strdup(prefix);
  if (o->servers == NULL || o->stream == NULL || o->prefix == NULL) {
    df__ropts_free(o);
    return DF_ENOMEM;
  }
  return 0;
}

void df__ropts_free(df__ropts *o) {
  df_free(o->servers);
  df_free(o->stream);
  df_free(o->prefix);
  o->servers = o->stream = o->prefix = NULL;
}
