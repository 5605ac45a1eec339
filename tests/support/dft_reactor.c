/* The reactor suites' helpers; see dft_reactor.h. */
#define _GNU_SOURCE /* pipe2 */
#include "dft_reactor.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "dft.h"

df_reactor *dft_reactor_new(bool manual_clock) {
  df_reactor *r = NULL;
  df_reactor_options opts = {.manual_clock = manual_clock};
  CU_ASSERT_EQUAL_FATAL(df_reactor_new(&r, &opts), 0);
  return r;
}

df_reactor *dft_reactor_begin(bool manual_clock) {
  dft_begin();
  return dft_reactor_new(manual_clock);
}

void dft_reactor_end(df_reactor *r) {
  CU_ASSERT_EQUAL(df_reactor_free(r), 0);
  dft_end();
}

void dft_trace_arg(void *tag) { dft_trace("%s", (const char *)tag); }

bool dft_trace_equals(const char *expected) {
  if (strcmp(dft_trace_text(), expected) == 0)
    return true;
  fprintf(stderr, "\n  trace: '%s'\n  want:  '%s'\n", dft_trace_text(),
          expected);
  return false;
}

void dft_pipe(int fds[2]) {
  CU_ASSERT_EQUAL_FATAL(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

void dft_pipe_close(int fds[2]) {
  close(fds[0]);
  close(fds[1]);
}

bool dft_fd_readable(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
