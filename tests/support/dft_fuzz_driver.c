/* What the fuzz drivers share; see dft_fuzz_driver.h. */
#define _XOPEN_SOURCE 700

#include "dft_fuzz_driver.h"

#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(DF_SANITIZED)
#include <sanitizer/common_interface_defs.h>
#endif

unsigned long dft_env_number(const char *name, unsigned long fallback) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? strtoul(v, NULL, 10) : fallback;
}

double dft_monotonic_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#if defined(DF_SANITIZED)
void dft_watch_crashes(void (*say)(void)) {
  __sanitizer_set_death_callback(say);
}
#else
static void (*say_on_crash)(void);

static void on_crash(int sig) {
  say_on_crash();
  signal(sig, SIG_DFL);
  raise(sig);
}

void dft_watch_crashes(void (*say)(void)) {
  static char alt[1 << 16];
  say_on_crash = say;
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_ONSTACK;
  int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaction(sigs[i], &sa, NULL);
}
#endif
