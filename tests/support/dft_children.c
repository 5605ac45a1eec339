/* The suite's child processes, killed at exit and on fatal signals; see
 * dft_children.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_children.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Written only by the main thread; read by the signal handler, hence
 * sig_atomic_t. */
#define MAX_CHILDREN 16
static volatile sig_atomic_t running[MAX_CHILDREN];

static const int fatal_signals[] = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT, SIGABRT,
                                    SIGSEGV, SIGBUS,  SIGFPE, SIGILL,  SIGALRM};
#define N_FATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[N_FATAL];
static bool handlers_installed;

/* Only async-signal-safe calls: kill and waitpid. The children are test
 * servers with nothing to save, so SIGKILL: no handler of theirs delays the
 * suite's end. */
static void kill_all_children(void) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    pid_t pid = (pid_t)running[i];
    if (pid > 0) {
      running[i] = 0;
      kill(pid, SIGKILL);
      while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
      }
    }
  }
}

static void at_exit(void) { kill_all_children(); }

/* Stops the children, then lets the signal do what it would have done: the
 * previous handler (a sanitizer's, for instance) or the default action. A
 * fault re-executes the faulting instruction on return, which raises it
 * again under the restored handler with its original details. */
static void on_signal(int sig) {
  int saved = errno;
  kill_all_children();
  for (size_t i = 0; i < N_FATAL; i++) {
    if (fatal_signals[i] == sig) {
      sigaction(sig, &previous[i], NULL);
    }
  }
  if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL) {
    raise(sig);
  }
  errno = saved;
}

static void install_handlers(void) {
  if (handlers_installed) {
    return;
  }
  handlers_installed = true;
  atexit(at_exit);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < N_FATAL; i++) {
    sigaction(fatal_signals[i], &sa, &previous[i]);
    if (previous[i].sa_handler == SIG_IGN) {
      /* An ignored signal does not end the process: leave it ignored. */
      sigaction(fatal_signals[i], &previous[i], NULL);
    }
  }
}

void dft_children_add(pid_t pid) {
  install_handlers();
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (running[i] == 0) {
      running[i] = pid;
      return;
    }
  }
}

void dft_children_remove(pid_t pid) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (running[i] == pid) {
      running[i] = 0;
    }
  }
}

bool dft_children_has(pid_t pid) {
  for (int i = 0; i < MAX_CHILDREN; i++) {
    if (running[i] == pid) {
      return true;
    }
  }
  return false;
}
