/* Keeping what a failure said; see dft_failure.h. */
#include "dft_failure.h"

#include <stdio.h>

void dft_note_failure(const df_failure *f, const df_error_type **type,
                      int *code, char *message, size_t size) {
  *type = df_failure_type(f);
  *code = df_failure_code(f);
  snprintf(message, size, "%s", df_failure_message(f));
}
