/* dnsmasq as a hermetic DNS server on loopback; see dft_dnsmasq.h. */
#define _GNU_SOURCE /* setgroups */

#include "dft_dnsmasq.h"
#include "dft_children.h"
#include "dft_ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ probing */

/* A free port on 127.0.0.1 for both UDP and TCP, as the kernel chose it for
 * UDP; 0 when the TCP side of that port is taken. */
static int pick_port(void) {
  int port = dft_loopback_port(SOCK_DGRAM, 0);
  return port != 0 && dft_loopback_port(SOCK_STREAM, port) == port ? port : 0;
}

/* One A query for example.test; true when any reply with our id came back
 * within \p wait_ms. */
static bool answers(int port, int wait_ms) {
  static const unsigned char query[] = {
      0x5a, 0x17, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
      4,    't',  'e',  's',  't',  0,    0x00, 0x01, 0x00, 0x01};
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return false;
  }
  struct sockaddr_in to = dft_loopback_addr(port);
  bool ok = false;
  if (sendto(s, query, sizeof query, 0, (struct sockaddr *)&to, sizeof to) ==
      (ssize_t)sizeof query) {
    struct pollfd p = {s, POLLIN, 0};
    if (poll(&p, 1, wait_ms) == 1) {
      unsigned char reply[512];
      ssize_t n = recv(s, reply, sizeof reply, 0);
      ok = n >= 12 && reply[0] == query[0] && reply[1] == query[1];
    }
  }
  close(s);
  return ok;
}

/* ------------------------------------------------------------ spawning */

typedef struct child_plan {
  const char *binary;
  char *argv[24];
  char port_arg[32];
  bool drop; /* running as root: become nobody before exec */
  uid_t uid;
  gid_t gid;
  bool show_log;
  pid_t parent;
} child_plan;

static void plan_child(child_plan *p, int port) {
  const char *bin = getenv("DF_DNSMASQ");
  p->binary = bin != NULL && bin[0] != '\0' ? bin : "/usr/sbin/dnsmasq";
  const char *log = getenv("DF_DNSMASQ_LOG");
  p->show_log = log != NULL && strcmp(log, "1") == 0;
  snprintf(p->port_arg, sizeof p->port_arg, "--port=%d", port);
  int n = 0;
  p->argv[n++] = (char *)"dnsmasq";
  p->argv[n++] = (char *)"--keep-in-foreground";
  p->argv[n++] = (char *)"--conf-file=/dev/null";
  p->argv[n++] = (char *)"--no-resolv";
  p->argv[n++] = (char *)"--no-hosts";
  p->argv[n++] = (char *)"--listen-address=127.0.0.1";
  p->argv[n++] = (char *)"--bind-interfaces";
  p->argv[n++] = p->port_arg;
  p->argv[n++] = (char *)"--pid-file=";
  p->argv[n++] = (char *)"--log-facility=-";
  if (p->show_log) {
    p->argv[n++] = (char *)"--log-queries";
  }
  p->argv[n++] = (char *)"--address=/example.test/127.0.0.1";
  p->argv[n++] = (char *)"--address=/example.test/::1";
  p->argv[n++] = (char *)"--host-record=dual.test,127.0.0.1,::1";
  p->argv[n++] = (char *)"--host-record=v4only.test,127.0.0.2";
  p->argv[n++] = (char *)"--host-record=v6only.test,::1";
  /* NXDOMAIN for every other name: nothing is forwarded anywhere. */
  p->argv[n++] = (char *)"--address=/#/";
  p->argv[n] = NULL;
  p->drop = geteuid() == 0;
  p->uid = 65534;
  p->gid = 65534;
  if (p->drop) {
    struct passwd *pw = getpwnam("nobody");
    if (pw != NULL) {
      p->uid = pw->pw_uid;
      p->gid = pw->pw_gid;
    }
  }
  p->parent = getpid();
}

/* Runs in the forked child: async-signal-safe calls only. The parent-death
 * signal is set after the credentials change, which would clear it. */
static void run_child(const child_plan *p) {
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    if (!p->show_log) {
      dup2(devnull, STDOUT_FILENO);
      dup2(devnull, STDERR_FILENO);
    }
    if (devnull > STDERR_FILENO) {
      close(devnull);
    }
  }
  if (p->drop &&
      (setgroups(0, NULL) != 0 || setgid(p->gid) != 0 || setuid(p->uid) != 0)) {
    _exit(126);
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != p->parent) {
    _exit(125);
  }
  execv(p->binary, p->argv);
  _exit(127);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Waits for the server to answer; false when it exited (a port taken
 * meanwhile) or stayed silent for about 5 s. */
static bool wait_ready(pid_t pid, int port, int *status) {
  for (int i = 0; i < 100; i++) {
    if (waitpid(pid, status, WNOHANG) == pid) {
      return false;
    }
    if (answers(port, 30)) {
      return true;
    }
    /* Not listening yet: the query was refused at once. */
    sleep_ms(20);
  }
  return false;
}

static int start_once(dft_dnsmasq *m, int *why) {
  int port = pick_port();
  if (port == 0) {
    return -EADDRINUSE;
  }
  child_plan plan;
  plan_child(&plan, port);
  if (access(plan.binary, X_OK) != 0) {
    fprintf(stderr, "dnsmasq fixture: %s: %s (install dnsmasq-base)\n",
            plan.binary, strerror(errno));
    return -ENOENT;
  }
  pid_t pid = fork();
  if (pid < 0) {
    return -errno;
  }
  if (pid == 0) {
    run_child(&plan);
  }
  dft_children_add(pid);
  int status = 0;
  if (wait_ready(pid, port, &status)) {
    m->pid = pid;
    m->port = port;
    snprintf(m->servers, sizeof m->servers, "127.0.0.1:%d", port);
    return 0;
  }
  /* Exited (status already reaped) or silent: make sure it is gone. */
  if (kill(pid, SIGTERM) == 0) {
    waitpid(pid, &status, 0);
  }
  dft_children_remove(pid);
  *why = status;
  return -EAGAIN;
}

int dft_dnsmasq_start(dft_dnsmasq *m) {
  memset(m, 0, sizeof *m);
  int why = 0;
  int rc = -EAGAIN;
  for (int attempt = 0; attempt < 10; attempt++) {
    rc = start_once(m, &why);
    if (rc == 0 || rc == -ENOENT) {
      return rc;
    }
    sleep_ms(20);
  }
  fprintf(stderr, "dnsmasq fixture: no server answered (last status 0x%x)\n",
          (unsigned)why);
  return rc;
}

void dft_dnsmasq_stop(dft_dnsmasq *m) {
  if (m == NULL || m->pid <= 0) {
    return;
  }
  pid_t pid = m->pid;
  m->pid = 0;
  dft_children_remove(pid);
  kill(pid, SIGTERM);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}
