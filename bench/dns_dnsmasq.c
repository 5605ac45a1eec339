/* The dnsmasq fixture of the test suites, compiled into deferred-bench as
 * is, so that `deferred-bench dns` measures against the very server setup
 * the tests use (names, flags, start-up wait, and stopping it on every way
 * out of the process). */
#include "../tests/support/dft_dnsmasq.c"
