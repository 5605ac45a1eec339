/* The test suites' table of child processes (killed at exit and on fatal
 * signals) and their loopback ports, compiled in for the dnsmasq and nats-server fixtures the dns
 * and remote benchmarks share with the tests. */
#include "../tests/support/dft_children.c"
#include "../tests/support/dft_ports.c"
