/* The nats-server fixture of the test suites, compiled into deferred-bench
 * as is, so that `deferred-bench remote` measures against the server setup
 * the tests use (JetStream, a temporary store, stopped on every way out of
 * the process, worker processes killed with it). */
#include "../tests/support/dft_nats_server.c"
