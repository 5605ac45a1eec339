/* The test suites' table of child processes (killed at exit and on fatal
 * signals), compiled in for the dnsmasq and nats-server fixtures the dns
 * and remote benchmarks share with the tests. */
#include "../tests/support/dft_children.c"
