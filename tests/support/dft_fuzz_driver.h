/* What the fuzz drivers (test_fuzz_core, the DNS replay driver) share:
 * their settings from the environment, a clock for how long they go on, and
 * naming the input that was running when they crashed (they run thousands of
 * generated inputs, and a crash ends the run before the driver could print
 * which one it was). */
#ifndef DFT_FUZZ_DRIVER_H
#define DFT_FUZZ_DRIVER_H

/* The decimal number in the environment variable \p name, or \p fallback
 * when it is unset or empty. */
unsigned long dft_env_number(const char *name, unsigned long fallback);

/* Seconds on the monotonic clock, for DF_FUZZ_SECONDS: how long a driver
 * goes on with more inputs (never asserted on). */
double dft_monotonic_seconds(void);

/* Makes \p say run when the process dies: from the sanitizer's death
 * callback in a sanitized build (DF_SANITIZED), else from a handler of
 * SIGSEGV, SIGBUS, SIGABRT, SIGFPE and SIGILL on a stack of its own (so a
 * stack overflow is reported too), which then re-raises the signal with its
 * default action. \p say must be async-signal-safe (write(2), no stdio, no
 * allocation). Call it once, from main, before the first input. */
void dft_watch_crashes(void (*say)(void));

#endif
