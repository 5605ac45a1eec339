/* nats-server with JetStream as a hermetic server on loopback, and worker
 * processes for the remote suites; see dft_nats_server.h. Children are
 * recorded with dft_children_add() (killed at exit and on fatal signals) and
 * asked for a parent-death signal. */
#define _GNU_SOURCE /* mkdtemp, nftw */

#include "dft_nats_server.h"
#include "dft_children.h"
#include "dft_ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ------------------------------------------------------------ children */

/* Runs in the forked child: async-signal-safe calls only. */
static void run_child(char *const argv[], bool quiet, pid_t parent) {
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    if (quiet) {
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    if (devnull > STDERR_FILENO) {
      close(devnull);
    }
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) {
    _exit(125);
  }
  execv(argv[0], argv);
  _exit(127);
}

static pid_t spawn(char *const argv[], bool quiet) {
  pid_t parent = getpid();
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    return -errno;
  }
  if (pid == 0) {
    run_child(argv, quiet, parent);
  }
  dft_children_add(pid);
  return pid;
}

pid_t dft_child_start(char *const argv[]) { return spawn(argv, false); }

int dft_child_stop(pid_t pid, int sig) {
  if (pid <= 0 || !dft_children_has(pid)) {
    return -1;
  }
  dft_children_remove(pid);
  kill(pid, sig);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/* ------------------------------------------------------------ probing */

/* GET /healthz on the monitoring port; true on {"status":"ok"}. */
static bool healthy(int port) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return false;
  }
  struct sockaddr_in to = dft_loopback_addr(port);
  bool ok = false;
  if (connect(s, (struct sockaddr *)&to, sizeof to) == 0) {
    static const char req[] =
        "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(s, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
      char buf[1024];
      size_t got = 0;
      struct pollfd p = {s, POLLIN, 0};
      while (got < sizeof buf - 1 && poll(&p, 1, 500) == 1) {
        ssize_t n = read(s, buf + got, sizeof buf - 1 - got);
        if (n <= 0) {
          break;
        }
        got += (size_t)n;
      }
      buf[got] = '\0';
      ok = strstr(buf, "\"ok\"") != NULL;
    }
  }
  close(s);
  return ok;
}

/* ------------------------------------------------------------ server */

static int launch(dft_nats *n) {
  const char *bin = getenv("DF_NATS_SERVER");
  if (bin == NULL || bin[0] == '\0') {
    bin = "/usr/sbin/nats-server";
  }
  if (access(bin, X_OK) != 0) {
    fprintf(stderr, "nats fixture: %s: %s (install nats-server)\n", bin,
            strerror(errno));
    return -ENOENT;
  }
  const char *log = getenv("DF_NATS_LOG");
  bool quiet = log == NULL || strcmp(log, "1") != 0;
  char port[16], monitor[16];
  snprintf(port, sizeof port, "%d", n->port);
  snprintf(monitor, sizeof monitor, "%d", n->monitor_port);
  char *argv[] = {
      (char *)bin,   (char *)"-js", (char *)"-a", (char *)"127.0.0.1",
      (char *)"-p",  port,          (char *)"-m", monitor,
      (char *)"-sd", n->store,      NULL};
  pid_t pid = spawn(argv, quiet);
  if (pid < 0) {
    return (int)pid;
  }
  for (int i = 0; i < 250; i++) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      dft_children_remove(pid);
      return -EADDRINUSE; /* exited: a port taken meanwhile */
    }
    if (healthy(n->monitor_port)) {
      n->pid = pid;
      snprintf(n->url, sizeof n->url, "nats://127.0.0.1:%d", n->port);
      return 0;
    }
    sleep_ms(20);
  }
  dft_child_stop(pid, SIGKILL);
  return -ETIMEDOUT;
}

int dft_nats_start(dft_nats *n) {
  memset(n, 0, sizeof *n);
  const char *tmp = getenv("TMPDIR");
  snprintf(n->store, sizeof n->store, "%s/df-nats-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(n->store) == NULL) {
    int e = errno;
    fprintf(stderr, "nats fixture: mkdtemp: %s\n", strerror(e));
    n->store[0] = '\0';
    return -e;
  }
  int rc = -EAGAIN;
  for (int attempt = 0; attempt < 10; attempt++) {
    n->port = dft_loopback_port(SOCK_STREAM, 0);
    n->monitor_port = dft_loopback_port(SOCK_STREAM, 0);
    if (n->port == 0 || n->monitor_port == 0 || n->port == n->monitor_port) {
      continue;
    }
    rc = launch(n);
    if (rc == 0 || rc == -ENOENT) {
      break;
    }
  }
  if (rc != 0) {
    fprintf(stderr, "nats fixture: no healthy server (%s)\n", strerror(-rc));
    dft_nats_stop(n);
  }
  return rc;
}

void dft_nats_kill(dft_nats *n) {
  if (n != NULL && n->pid > 0) {
    dft_child_stop(n->pid, SIGTERM);
    n->pid = 0;
  }
}

int dft_nats_restart(dft_nats *n) {
  if (n->pid > 0 || n->store[0] == '\0') {
    return -EINVAL;
  }
  int rc = -EAGAIN;
  for (int attempt = 0; attempt < 50 && rc != 0; attempt++) {
    rc = launch(n); /* the old ports may linger in TIME_WAIT briefly */
    if (rc == -ENOENT) {
      break;
    }
    if (rc != 0) {
      sleep_ms(100);
    }
  }
  return rc;
}

static int remove_one(const char *path, const struct stat *sb, int flag,
                      struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

void dft_nats_stop(dft_nats *n) {
  if (n == NULL) {
    return;
  }
  dft_nats_kill(n);
  if (n->store[0] != '\0') {
    nftw(n->store, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    n->store[0] = '\0';
  }
}
