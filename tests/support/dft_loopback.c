/* Loopback TCP targets and an fd census; see dft_loopback.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_loopback.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static socklen_t loopback(int family, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET6) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = in6addr_loopback;
    sin6->sin6_port = htons((uint16_t)port);
    return sizeof *sin6;
  }
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin->sin_port = htons((uint16_t)port);
  return sizeof *sin;
}

static int port_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) {
    return 0;
  }
  if (ss.ss_family == AF_INET6) {
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* A bound TCP socket; IPv6 sockets are IPv6-only so that 127.0.0.1 and ::1
 * at one port are two sockets. */
static int bound_tcp(int family, int port) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  int one = 1;
  if (family == AF_INET6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, port, &ss);
  if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int dft_listener(int family, int port, int backlog, int *port_out) {
  int fd = bound_tcp(family, port);
  if (fd < 0) {
    return -1;
  }
  if (listen(fd, backlog) != 0) {
    close(fd);
    return -1;
  }
  if (port_out != NULL) {
    *port_out = port_of(fd);
  }
  return fd;
}

int dft_hanging_listener(int family, int port, int *port_out, int *filler) {
  int p = 0;
  int fd = dft_listener(family, port, 0, &p);
  if (fd < 0) {
    return -1;
  }
  /* A blocking connect returns once the handshake is done, so the accept
   * queue is full when this returns. */
  int c = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_storage ss;
  socklen_t len = loopback(family, p, &ss);
  if (c < 0 || connect(c, (struct sockaddr *)&ss, len) != 0) {
    if (c >= 0) {
      close(c);
    }
    close(fd);
    return -1;
  }
  *filler = c;
  if (port_out != NULL) {
    *port_out = p;
  }
  return fd;
}

int dft_refused_port(int family) {
  int fd = bound_tcp(family, 0);
  if (fd < 0) {
    return 0;
  }
  int port = port_of(fd);
  close(fd);
  return port;
}

int dft_free_dual_port(void) {
  for (int tries = 0; tries < 20; tries++) {
    int v4 = bound_tcp(AF_INET, 0);
    if (v4 < 0) {
      return 0;
    }
    int port = port_of(v4);
    int v6 = bound_tcp(AF_INET6, port);
    close(v4);
    if (v6 >= 0) {
      close(v6);
      return port;
    }
  }
  return 0;
}

bool dft_have_ipv6(void) {
  int fd = bound_tcp(AF_INET6, 0);
  if (fd < 0) {
    return false;
  }
  close(fd);
  return true;
}

int dft_fd_count(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (dir == NULL) {
    return -1;
  }
  int n = 0;
  struct dirent *e;
  while ((e = readdir(dir)) != NULL) {
    if (e->d_name[0] != '.') {
      n++;
    }
  }
  closedir(dir);
  return n - 1; /* the directory's own descriptor */
}
