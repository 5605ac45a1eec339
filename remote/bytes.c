/* df_bytes, the failure types of remote jobs, and the process-wide close of
 * the NATS client. */
#include <string.h>

#include "remote_internal.h"

const df_error_type DF_REMOTE = {"RemoteError", &DF_ERROR};
const df_error_type DF_REMOTE_CONNECTION = {"RemoteConnectionError",
                                            &DF_REMOTE};
const df_error_type DF_REMOTE_JOB_FAILED = {"RemoteJobFailed", &DF_REMOTE};
const df_error_type DF_REMOTE_UNKNOWN_JOB = {"UnknownRemoteJob", &DF_REMOTE};
const df_error_type DF_REMOTE_GAVE_UP = {"RemoteJobGaveUp", &DF_REMOTE};
const df_error_type DF_REMOTE_TOO_LARGE = {"RemotePayloadTooLarge", &DF_REMOTE};
const df_error_type DF_REMOTE_CLOSED = {"RemoteClosed", &DF_REMOTE};

df_bytes *df_bytes_new(const void *data, size_t len) {
  if (len > SIZE_MAX - sizeof(df_bytes) - 1) {
    return NULL;
  }
  df_bytes *b = df_malloc(sizeof *b + len + 1);
  if (b == NULL) {
    return NULL;
  }
  b->len = len;
  if (len > 0) {
    memcpy(b->data, data, len);
  }
  b->data[len] = '\0';
  return b;
}

void df_bytes_free(void *bytes) { df_free(bytes); }

void df_remote_library_close(void) { nats_CloseAndWait(1000); }
