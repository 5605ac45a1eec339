/* Naming the input that was running when a test driver crashed: the fuzz
 * drivers run thousands of generated inputs, and a crash ends the run
 * before the driver could print which one it was. */
#ifndef DFT_CRASH_H
#define DFT_CRASH_H

/* Makes \p say run when the process dies: from the sanitizer's death
 * callback in a sanitized build (DF_SANITIZED), else from a handler of
 * SIGSEGV, SIGBUS, SIGABRT, SIGFPE and SIGILL on a stack of its own (so a
 * stack overflow is reported too), which then re-raises the signal with its
 * default action. \p say must be async-signal-safe (write(2), no stdio, no
 * allocation). Call it once, from main, before the first input. */
void dft_watch_crashes(void (*say)(void));

#endif
