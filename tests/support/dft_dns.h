/* What the DNS and connect suites share: the suite frame (dnsmasq started
 * around the tests), making reactors and resolvers, recording how a
 * Deferred ended, and running a reactor until something happened (with a
 * generous bound, so a bug fails a test instead of hanging it; no test
 * asserts on time). */
#ifndef DFT_DNS_H
#define DFT_DNS_H

#include <CUnit/CUnit.h>
#include <stdbool.h>

#include "deferred.h"
/* dft_reactor_new(false): a reactor on the system clock. */
#include "dft_reactor.h"

/* ------------------------------------------------------------ suite */

/* Runs one DNS suite: dnsmasq is started before the tests (the suite fails
 * without it) and stopped after them, and the counting allocator of the
 * core suites is installed, so a test may fail the library's allocations
 * (dft_alloc.h). Returns the process exit status. */
int dft_dns_main(const char *suite, CU_TestInfo *tests);

/* "127.0.0.1:PORT" of the suite's dnsmasq, for df_resolver_options. */
const char *dft_dns_servers(void);

/* ------------------------------------------------------------ objects */

/* A resolver on \p r with \p o (borrowed); the test stops when it cannot
 * be made. */
df_resolver *dft_resolver(df_reactor *r, const df_resolver_options *o);

/* The counters of \p res (asserted readable). */
struct df_resolver_stats dft_resolver_stats(const df_resolver *res);

/* Frees \p res (if not NULL) and \p r, returning df_reactor_free()'s code so
 * that the test asserts the reactor had nothing left. */
int dft_dns_teardown(df_reactor *r, df_resolver *res);

/* ------------------------------------------------------------ outcomes */

typedef struct dft_outcome {
  int fired;                 /* times the recording step ran: must end at 1 */
  bool ok;                   /* the result was a value */
  df_result value;           /* the value, owned here until cleared */
  const df_error_type *type; /* the failure's type, else NULL */
  int code;
  char message[512];
} dft_outcome;

/* Appends a step to \p d that records the result into \p o and consumes it
 * (the value is kept in \p o, the failure counts as handled), then drops the
 * caller's reference to \p d. \p o must be zeroed first. */
void dft_capture(df_deferred *d, dft_outcome *o);

/* Frees the value kept in \p o and zeroes it. */
void dft_outcome_clear(dft_outcome *o);

/* Asserts that \p d has already failed with DF_INVALID_ARGUMENT and a
 * message containing \p names; drops the caller's reference to \p d. */
void dft_expect_invalid(df_deferred *d, const char *names);

/* ------------------------------------------------------------ running */

/* A condition for dft_run_until_true(). */
typedef bool (*dft_cond)(const void *arg);

/* Runs rounds of \p r until \p cond(\p arg) holds or \p limit seconds of
 * wall time passed; true when it holds. */
bool dft_run_until_true(df_reactor *r, dft_cond cond, const void *arg,
                        double limit);

/* Runs rounds of \p r until *\p flag is non-zero or \p limit seconds of
 * wall time passed; true when the flag was set. */
bool dft_run_until(df_reactor *r, const int *flag, double limit);

/* Runs rounds of \p r for \p seconds of wall time. */
void dft_run_for(df_reactor *r, double seconds);

/* Runs rounds of \p r until nothing of \p res is pending (late answers
 * included) or \p limit seconds passed; true when nothing is pending. */
bool dft_drain_resolver(df_reactor *r, df_resolver *res, double limit);

#endif
