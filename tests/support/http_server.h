/* A small HTTP/1.0 server on the test's reactor, on 127.0.0.1 at a free
 * port, for the article's HTTP client:
 *   GET /hang  is read and never answered; the server waits for the client
 *              to go away and counts it as aborted;
 *   GET <else> is answered "200 OK" with DF_TEST_HTTP_BODY, then closed.
 * Everything runs on the reactor thread. */
#ifndef DF_TEST_HTTP_SERVER_H
#define DF_TEST_HTTP_SERVER_H

#include <stddef.h>

#include "deferred/reactor.h"

#define DF_TEST_HTTP_BODY "hello from a deferred test\n"

typedef struct df_test_http_server df_test_http_server;

/* Starts the server; NULL on failure. \p port receives its port. */
df_test_http_server *df_test_http_server_new(df_reactor *r, int *port);

/* Connections accepted, complete requests read, responses sent, and
 * connections the client closed before an answer (aborted). */
size_t df_test_http_accepted(const df_test_http_server *s);
size_t df_test_http_requests(const df_test_http_server *s);
size_t df_test_http_answered(const df_test_http_server *s);
size_t df_test_http_aborted(const df_test_http_server *s);

/* Closes the listener and every connection. NULL is a no-op. */
void df_test_http_server_free(df_test_http_server *s);

#endif
