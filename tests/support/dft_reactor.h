/* What the reactor suites share, on top of the core suites' frame (dft.h):
 * making a reactor, a test's begin and end around one, the trace of tags
 * that timers and calls leave, and pipes to watch. */
#ifndef DFT_REACTOR_H
#define DFT_REACTOR_H

#include <deferred/reactor.h>
#include <stdbool.h>

/* A reactor, with a manual clock (task.Clock) or the system's; the test
 * stops when it cannot be made. */
df_reactor *dft_reactor_new(bool manual_clock);

/* dft_begin(), then dft_reactor_new(). */
df_reactor *dft_reactor_begin(bool manual_clock);

/* Asserts that \p r frees (nothing was left live), then dft_end(). */
void dft_reactor_end(df_reactor *r);

/* A df_timer_fn: appends its argument, a string, to the trace. */
void dft_trace_arg(void *tag);

/* True when the trace is \p expected; otherwise prints both. */
bool dft_trace_equals(const char *expected);

/* A non-blocking, close-on-exec pipe (the test stops when it fails), and
 * closing both ends. */
void dft_pipe(int fds[2]);
void dft_pipe_close(int fds[2]);

/* True when \p fd is readable now. */
bool dft_fd_readable(int fd);

#endif
