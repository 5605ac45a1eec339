/* The article's HTTP client: GET a path over a connection made by
 * df_connect_tcp(), with a canceller that aborts the connection.
 *
 * Cancelling the returned Deferred
 * - while the name is being resolved: fails it with DF_CANCELLED at once,
 *   the lookup runs on (S20);
 * - while connecting: closes every connection attempt;
 * - while the request is sent or the response read: aborts the connection
 *   (a reset, not an orderly close) and fails it with DF_CANCELLED.
 * Everything runs on the reactor thread. */
#ifndef DF_EXAMPLE_HTTP_GET_H
#define DF_EXAMPLE_HTTP_GET_H

#include <stddef.h>

#include "deferred.h"

/* The value of a successful example_http_get(); free it with
 * example_http_response_free(). */
typedef struct example_http_response {
  int status; /* e.g. 200 */
  char *body; /* NUL-terminated; points into the response */
  size_t body_len;
  char raw[]; /* the whole response, NUL-terminated */
} example_http_response;

void example_http_response_free(void *response);

/* GETs http://HOST:PORT/PATH with HTTP/1.0 and fires with the response, or
 * fails with what df_connect_tcp() fails with, DF_SYSTEM (code errno) when
 * the connection breaks, or DF_ERROR when the answer is not HTTP.
 * \p host and \p path are copied; \p timeout (seconds, 0: none) bounds the
 * whole request. Returns the caller's reference. */
df_deferred *example_http_get(df_reactor *r, df_resolver *res, const char *host,
                              unsigned port, const char *path, double timeout);

#endif
