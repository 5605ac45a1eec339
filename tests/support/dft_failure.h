/* Keeping what a failure said after it is freed: the steps that record how
 * a Deferred ended (the DNS, connect and remote suites) copy a failure's
 * type, code and message into the test's own record, then let it go. */
#ifndef DFT_FAILURE_H
#define DFT_FAILURE_H

#include <stddef.h>

#include "deferred.h"

/* Copies \p f's type (a static, never freed) to \p type, its code to
 * \p code and its message to \p message (at most \p size bytes with the
 * terminating NUL, cut if longer). \p f stays the caller's. */
void dft_note_failure(const df_failure *f, const df_error_type **type,
                      int *code, char *message, size_t size);

#endif
