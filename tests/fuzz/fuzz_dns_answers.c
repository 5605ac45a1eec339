/* Fuzz target: c-ares answers from a responder on 127.0.0.1 that sends
 * arbitrary bytes, through df_resolve() and the copy of the answer into a
 * df_addresses (dns_fuzz_lookup() checks the result). Input: one byte of
 * options (bit 0: keep the query's question and send the rest of the input
 * after it, so that c-ares takes the answer for its query; bits 1-2: the
 * family), then the reply. */
#include "dns_fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

/* With DF_FUZZ_STATS=1, how the lookups ended is printed at exit, to see
 * that the inputs reach the copy of the answer and not only c-ares'
 * refusals. */
static unsigned long values, failures[32];

static void print_stats(void) {
  printf("answers: %lu lookups gave addresses; failures by c-ares status:",
         values);
  for (int i = 0; i < 32; i++)
    if (failures[i] != 0)
      printf(" %d: %lu", i, failures[i]);
  printf("\n");
}

static void count(df_result r) {
  static bool stats, asked;
  if (!asked) {
    asked = true;
    const char *v = getenv("DF_FUZZ_STATS");
    stats = v != NULL && v[0] == '1';
    if (stats)
      atexit(print_stats);
  }
  if (!stats)
    return;
  df_failure *f = df_result_failure(r);
  if (f == NULL)
    values++;
  else
    failures[(unsigned)df_failure_code(f) % 32]++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0 || size > 513)
    return 0;
  static const int families[] = {AF_UNSPEC, AF_INET, AF_INET6, AF_UNSPEC};
  int family = families[(data[0] >> 1) & 3];
  dns_fuzz_respond(data + 1, size - 1, data[0] & 1);
  df_result r = dns_fuzz_lookup("answer.fuzz.test", family);
  count(r);
  df_result_free(r);
  return 0;
}
