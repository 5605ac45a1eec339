/* The NATS connection of a caller or a worker: options from df__ropts,
 * connecting, and creating or checking the work-queue stream. Runs on the
 * library thread (every call here blocks). */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "remote_internal.h"

void df__rconn_reason(natsStatus s, jsErrCode jerr, char *why, size_t why_len) {
  natsStatus last = NATS_OK;
  const char *detail = nats_GetLastError(&last);
  if (detail != NULL && detail[0] != '\0' &&
      strcmp(detail, natsStatus_GetText(s)) != 0) {
    snprintf(why, why_len, "%s: %s", natsStatus_GetText(s), detail);
  } else {
    snprintf(why, why_len, "%s", natsStatus_GetText(s));
  }
  if (jerr != 0) {
    size_t n = strlen(why);
    snprintf(why + n, why_len - n, " (JetStream error %d)", (int)jerr);
  }
}

void df__rconn_last_error(natsConnection *nc, char *why, size_t why_len) {
  const char *text = NULL;
  natsStatus s = natsConnection_GetLastError(nc, &text);
  if (text != NULL && text[0] != '\0') {
    snprintf(why, why_len, "%s", text);
  } else if (s != NATS_OK) {
    snprintf(why, why_len, "%s", natsStatus_GetText(s));
  } else {
    snprintf(why, why_len, "connection closed");
  }
}

/* Splits "a,b,c" into the servers of \p opts. */
static natsStatus set_servers(natsOptions *opts, const char *list) {
  char *copy = df_strdup(list);
  if (copy == NULL) {
    return NATS_NO_MEMORY;
  }
  const char *urls[16];
  int n = 0;
  for (char *p = copy; *p != '\0' && n < 16;) {
    size_t len = strcspn(p, ",");
    bool last = p[len] == '\0';
    p[len] = '\0';
    while (*p == ' ') {
      p++;
    }
    if (*p != '\0') {
      urls[n++] = p;
    }
    if (last) {
      break;
    }
    p += len + 1;
  }
  natsStatus s =
      n > 0 ? natsOptions_SetServers(opts, urls, n) : NATS_INVALID_ARG;
  df_free(copy);
  return s;
}

natsStatus df__rconn_open(natsConnection **nc, const df__ropts *o,
                          const df__rconn_hooks *hooks, char *why,
                          size_t why_len) {
  *nc = NULL;
  natsOptions *opts = NULL;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK)
    s = set_servers(opts, o->servers);
  if (s == NATS_OK)
    s = natsOptions_SetNoRandomize(opts, true);
  if (s == NATS_OK)
    s = natsOptions_SetTimeout(opts, o->connect_timeout_ms);
  if (s == NATS_OK)
    s = natsOptions_SetMaxReconnect(opts, o->max_reconnect);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectWait(opts, o->reconnect_wait_ms);
  /* Jobs, results, receipts and acknowledgements are small and each one is
   * waited for: send them at once rather than after the client's flusher
   * has batched them (about a millisecond per hop). */
  if (s == NATS_OK)
    s = natsOptions_SetSendAsap(opts, true);
  /* A lost server is noticed within about two ping intervals. */
  if (s == NATS_OK)
    s = natsOptions_SetPingInterval(opts, 2000);
  if (s == NATS_OK)
    s = natsOptions_SetMaxPingsOut(opts, 2);
  if (s == NATS_OK && hooks != NULL) {
    if (hooks->closed != NULL)
      s = natsOptions_SetClosedCB(opts, hooks->closed, hooks->arg);
    if (s == NATS_OK && hooks->disconnected != NULL)
      s = natsOptions_SetDisconnectedCB(opts, hooks->disconnected, hooks->arg);
    if (s == NATS_OK && hooks->reconnected != NULL)
      s = natsOptions_SetReconnectedCB(opts, hooks->reconnected, hooks->arg);
  }
  if (s == NATS_OK)
    s = natsConnection_Connect(nc, opts);
  if (s != NATS_OK) {
    df__rconn_reason(s, 0, why, why_len);
    if (*nc != NULL) {
      natsConnection_Destroy(*nc);
      *nc = NULL;
    }
  }
  natsOptions_Destroy(opts);
  return s;
}

natsStatus df__rconn_setup(natsConnection **nc, jsCtx **js, const df__ropts *o,
                           const df__rconn_hooks *hooks, df__rdone *done,
                           char *why, size_t why_len) {
  df__rdone_add(done);
  natsStatus s = df__rconn_open(nc, o, hooks, why, why_len);
  if (s != NATS_OK) {
    df__rdone_one(done);
    return s;
  }
  s = natsConnection_JetStream(js, *nc, NULL);
  if (s != NATS_OK) {
    df__rconn_reason(s, 0, why, why_len);
    return s;
  }
  return df__rconn_stream(*js, o, why, why_len);
}

natsStatus df__rconn_subscribe(natsConnection *nc, natsSubscription **sub,
                               const char *subject, natsMsgHandler fn,
                               void *arg, df__rdone *done) {
  natsStatus s = natsConnection_Subscribe(sub, nc, subject, fn, arg);
  if (s == NATS_OK) {
    df__rdone_add(done);
    s = natsSubscription_SetOnCompleteCB(*sub, df__rdone_one, done);
    if (s != NATS_OK) {
      df__rdone_one(done);
    }
  }
  return s;
}

natsStatus df__rconn_stream(jsCtx *js, const df__ropts *o, char *why,
                            size_t why_len) {
  char *subject = df__concat(o->prefix, ".job.>", NULL);
  if (subject == NULL) {
    snprintf(why, why_len, "out of memory");
    return NATS_NO_MEMORY;
  }
  jsStreamInfo *info = NULL;
  jsErrCode jerr = 0;
  natsStatus s = js_GetStreamInfo(&info, js, o->stream, NULL, &jerr);
  if (s == NATS_NOT_FOUND) {
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = o->stream;
    const char *subjects[] = {subject};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Storage = js_FileStorage;
    /* Repeated publishes of one job (retries after a lost
     * acknowledgement) are dropped within the default deadline. */
    cfg.Duplicates = o->timeout_ms * 1000000LL;
    jerr = 0;
    s = js_AddStream(&info, js, &cfg, NULL, &jerr);
  }
  if (s == NATS_OK && info != NULL &&
      info->Config->Retention != js_WorkQueuePolicy) {
    snprintf(why, why_len, "stream %s exists and is not a work queue",
             o->stream);
    s = NATS_MISMATCH;
  } else if (s != NATS_OK) {
    df__rconn_reason(s, jerr, why, why_len);
  }
  jsStreamInfo_Destroy(info);
  df_free(subject);
  return s;
}
