/* Futex calls through syscall(): glibc has no wrapper. Private futexes
 * (the words are never shared between processes); FUTEX_WAIT_BITSET for an
 * absolute deadline on the monotonic clock, which an idle timeout needs. */
#define _GNU_SOURCE /* syscall() */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "futex.h"

int df__futex_wait(atomic_uint *word, unsigned expected,
                   const struct timespec *deadline) {
  int saved_errno = errno;
  long rc = syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                    expected, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
  int result = rc != 0 && errno == ETIMEDOUT ? ETIMEDOUT : 0;
  errno = saved_errno;
  return result;
}

void df__futex_wake(atomic_uint *word) {
  int saved_errno = errno;
  syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  errno = saved_errno;
}
