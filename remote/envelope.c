/* The envelopes of remote jobs: what travels in NATS messages, and why each
 * field is there. Everything is in NATS headers (server 2.2+); the payload
 * and the result travel as the message bodies, unchanged.
 *
 * JOB, published by the caller with js_PublishMsg to PREFIX.job.NAME (the
 * stream's subjects are PREFIX.job.>; one durable pull consumer, "workers",
 * serves them all):
 *   Nats-Msg-Id  = the job id. The stream drops a second message with the
 *                  same id inside its duplicate window (the default
 *                  deadline), so a publish retried after a lost
 *                  acknowledgement (server restart, timeout) stores the job
 *                  once.
 *   Df-Job-Id    = CALLER-SEQ: CALLER is a NUID unique to one df_remote
 *                  (made at df_remote_new), SEQ counts its calls. Unique
 *                  across callers and restarts without coordination; the
 *                  caller finds its pending call by SEQ.
 *   Df-Job       = NAME again (the subject's last token), so a worker need
 *                  not parse the subject.
 *   Df-Reply     = PREFIX.reply.CALLER, the core-NATS subject the caller
 *                  listens on. Results do not go through the stream: the
 *                  caller is the only one who needs them.
 *   Df-Deadline  = the call's deadline, milliseconds since the Unix epoch
 *                  (wall clock). A worker skips (terminates) a job whose
 *                  deadline passed instead of running it for nobody, and
 *                  stops re-sending a result nobody confirmed once it
 *                  passed.
 *   body         = the payload.
 *
 * RESULT, published by the worker with core NATS to Df-Reply, with a reply
 * subject (the receipt subject, one per held job):
 *   Df-Job-Id    = the job id, copied from the job.
 *   Df-Attempt   = the delivery (1, 2...) that produced it, for diagnosis.
 *   Df-Status    = "ok" or "failed".
 *   Df-Error-Type, Df-Error-Code, Df-Error-Message (failed only) = the
 *                  failure's type name, code and message (CR and LF made
 *                  spaces: header values are one line).
 *   body         = the result bytes (ok), empty otherwise.
 * The caller answers every result it parsed on the receipt subject (an empty
 * message) once the result is in its hand-off queue, whether a call still
 * waits for it or not. Only then does the worker acknowledge the job to the
 * stream; until then it re-sends the result every second (until the
 * deadline). So a result published while the caller was reconnecting is not
 * lost, and a job is removed from the stream only once its result reached
 * the caller: acknowledging right after publishing would lose both the job
 * and its result if the caller missed the publish.
 *
 * CANCEL, published by the caller with core NATS to PREFIX.cancel: the body
 * is the job id. Every worker listens; one that holds the job sets its stop
 * flag (not started: it never runs). The caller also deletes the job's
 * message from the stream by sequence (from the publish acknowledgement), so
 * a job no worker took is never delivered.
 *
 * GIVE UP: the server's advisory
 * $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.STREAM.workers (JSON with
 * "stream_seq" and "deliveries") tells callers that a job reached
 * max_deliver; the caller that published that sequence fails the call.
 *
 * Exactly once for the caller: whatever runs twice, the caller's table of
 * pending calls fires a Deferred with the first result of its SEQ and
 * removes the entry; later results find no entry and are freed. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_internal.h"

natsStatus df__env_job(natsMsg **out, const char *subject, const char *id,
                       const char *name, const char *reply, int64_t deadline_ms,
                       const void *data, size_t len) {
  char deadline[32];
  snprintf(deadline, sizeof deadline, "%" PRId64, deadline_ms);
  natsStatus s = natsMsg_Create(out, subject, NULL, data, (int)len);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(*out, DF__H_ID, id);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(*out, DF__H_NAME, name);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(*out, DF__H_REPLY, reply);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(*out, DF__H_DEADLINE, deadline);
  if (s != NATS_OK && *out != NULL) {
    natsMsg_Destroy(*out);
    *out = NULL;
  }
  return s;
}

static bool parse_i64(const char *s, int64_t *out) {
  if (s == NULL || s[0] == '\0') {
    return false;
  }
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno != 0 || *end != '\0') {
    return false;
  }
  *out = (int64_t)v;
  return true;
}

bool df__env_read_job(natsMsg *m, df__job_env *out) {
  const char *deadline = NULL;
  memset(out, 0, sizeof *out);
  return natsMsgHeader_Get(m, DF__H_ID, &out->id) == NATS_OK &&
         natsMsgHeader_Get(m, DF__H_NAME, &out->name) == NATS_OK &&
         natsMsgHeader_Get(m, DF__H_REPLY, &out->reply) == NATS_OK &&
         natsMsgHeader_Get(m, DF__H_DEADLINE, &deadline) == NATS_OK &&
         parse_i64(deadline, &out->deadline_ms) && out->id[0] != '\0' &&
         out->reply[0] != '\0';
}

/* A header value on one line. */
static void one_line(char *s) {
  for (; *s != '\0'; s++) {
    if (*s == '\r' || *s == '\n') {
      *s = ' ';
    }
  }
}

static natsStatus set_failure(natsMsg *m, const df_failure *f) {
  char code[16];
  snprintf(code, sizeof code, "%d", df_failure_code(f));
  const df_error_type *type = df_failure_type(f);
  char *type_name =
      df_strdup(type != NULL && type->name != NULL ? type->name : "Error");
  char *message = df_strdup(df_failure_message(f));
  natsStatus s =
      type_name != NULL && message != NULL ? NATS_OK : NATS_NO_MEMORY;
  if (s == NATS_OK) {
    one_line(type_name);
    one_line(message);
    s = natsMsgHeader_Set(m, DF__H_STATUS, "failed");
  }
  if (s == NATS_OK)
    s = natsMsgHeader_Set(m, DF__H_ERR_TYPE, type_name);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(m, DF__H_ERR_CODE, code);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(m, DF__H_ERR_MSG, message);
  df_free(type_name);
  df_free(message);
  return s;
}

natsStatus df__env_result(natsMsg **out, const char *reply, const char *receipt,
                          const char *id, unsigned attempt, df_result r) {
  const df_bytes *b = df_result_is_failure(r) ? NULL : r.ptr;
  const void *data = b != NULL ? b->data : NULL;
  int len = b != NULL ? (int)b->len : 0;
  char attempt_text[16];
  snprintf(attempt_text, sizeof attempt_text, "%u", attempt);
  natsStatus s = natsMsg_Create(out, reply, receipt, data, len);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(*out, DF__H_ID, id);
  if (s == NATS_OK)
    s = natsMsgHeader_Set(*out, DF__H_ATTEMPT, attempt_text);
  if (s == NATS_OK) {
    s = df_result_is_failure(r) ? set_failure(*out, df_result_failure(r))
                                : natsMsgHeader_Set(*out, DF__H_STATUS, "ok");
  }
  if (s != NATS_OK && *out != NULL) {
    natsMsg_Destroy(*out);
    *out = NULL;
  }
  return s;
}

/* Copies header \p key of \p m into \p *out: 0, DF_EINVAL when the header
 * is missing, DF_ENOMEM. */
static int header_copy(natsMsg *m, const char *key, char **out) {
  const char *v = NULL;
  *out = NULL;
  if (natsMsgHeader_Get(m, key, &v) != NATS_OK || v == NULL) {
    return DF_EINVAL;
  }
  *out = df_strdup(v);
  return *out != NULL ? 0 : DF_ENOMEM;
}

static int read_result(natsMsg *m, df__result_env *out) {
  const char *status = NULL;
  int rc = header_copy(m, DF__H_ID, &out->id);
  if (rc != 0) {
    return rc;
  }
  if (natsMsgHeader_Get(m, DF__H_STATUS, &status) != NATS_OK) {
    return DF_EINVAL;
  }
  out->ok = strcmp(status, "ok") == 0;
  if (out->ok) {
    out->value =
        df_bytes_new(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m));
    return out->value != NULL ? 0 : DF_ENOMEM;
  }
  int64_t code = 0;
  char *code_text = NULL;
  if (header_copy(m, DF__H_ERR_CODE, &code_text) == DF_ENOMEM) {
    return DF_ENOMEM;
  }
  bool code_ok = parse_i64(code_text, &code);
  df_free(code_text);
  out->err_code = code_ok ? (int)code : 0;
  rc = header_copy(m, DF__H_ERR_TYPE, &out->err_type);
  if (rc == 0) {
    rc = header_copy(m, DF__H_ERR_MSG, &out->err_message);
  }
  return rc;
}

int df__env_read_result(natsMsg *m, df__result_env *out) {
  memset(out, 0, sizeof *out);
  int rc = read_result(m, out);
  if (rc != 0) {
    df__result_env_clear(out);
  }
  return rc;
}

void df__result_env_clear(df__result_env *e) {
  df_free(e->id);
  df_bytes_free(e->value);
  df_free(e->err_type);
  df_free(e->err_message);
  memset(e, 0, sizeof *e);
}

df_failure *df__env_bad_value(void) {
  return df_failure_new(
      &DF_INVALID_ARGUMENT, 0,
      "the job function returned a value that is not df_bytes");
}
