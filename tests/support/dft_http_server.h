/* A small HTTP/1.0 server on the test's reactor, on 127.0.0.1 at a free
 * port, for the article's HTTP client:
 *   GET /hang  is read and never answered; the server waits for the client
 *              to go away and counts it as aborted;
 *   GET <else> is answered "200 OK" with DFT_HTTP_BODY, then closed.
 * Everything runs on the reactor thread. */
#ifndef DFT_HTTP_SERVER_H
#define DFT_HTTP_SERVER_H

#include <stddef.h>

#include "deferred/reactor.h"

#define DFT_HTTP_BODY "hello from a deferred test\n"

typedef struct dft_http_server dft_http_server;

/* Starts the server; NULL on failure. \p port receives its port. */
dft_http_server *dft_http_server_new(df_reactor *r, int *port);

/* Connections accepted, complete requests read, responses sent, and
 * connections the client closed before an answer (aborted). */
size_t dft_http_accepted(const dft_http_server *s);
size_t dft_http_requests(const dft_http_server *s);
size_t dft_http_answered(const dft_http_server *s);
size_t dft_http_aborted(const dft_http_server *s);

/* Closes the listener and every connection. NULL is a no-op. */
void dft_http_server_free(dft_http_server *s);

#endif
