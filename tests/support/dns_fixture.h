/* What the DNS and connect suites share: recording how a Deferred ended,
 * and running a reactor until that happened (with a generous bound, so a
 * bug fails a test instead of hanging it; no test asserts on time). */
#ifndef DF_TEST_DNS_FIXTURE_H
#define DF_TEST_DNS_FIXTURE_H

#include <stdbool.h>

#include "deferred.h"

typedef struct df_test_outcome {
  int fired;                 /* times the recording step ran: must end at 1 */
  bool ok;                   /* the result was a value */
  df_result value;           /* the value, owned here until cleared */
  const df_error_type *type; /* the failure's type, else NULL */
  int code;
  char message[512];
} df_test_outcome;

/* Appends a step to \p d that records the result into \p o and consumes it
 * (the value is kept in \p o, the failure counts as handled), then drops the
 * caller's reference to \p d. \p o must be zeroed first. */
void df_test_capture(df_deferred *d, df_test_outcome *o);

/* Frees the value kept in \p o and zeroes it. */
void df_test_outcome_clear(df_test_outcome *o);

/* Runs rounds of \p r until *\p flag is non-zero or \p limit seconds of wall
 * time passed; true when the flag was set. */
bool df_test_run_until(df_reactor *r, const int *flag, double limit);

/* Runs rounds of \p r for \p seconds of wall time. */
void df_test_run_for(df_reactor *r, double seconds);

/* Runs rounds of \p r until nothing of \p res is pending (late answers
 * included) or \p limit seconds passed; true when nothing is pending. */
bool df_test_drain_resolver(df_reactor *r, df_resolver *res, double limit);

/* Frees \p res (if not NULL) and \p r, returning df_reactor_free()'s code so
 * that the test asserts the reactor had nothing left. */
int df_test_teardown(df_reactor *r, df_resolver *res);

#endif
