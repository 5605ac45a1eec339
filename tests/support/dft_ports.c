/* Ports on 127.0.0.1; see dft_ports.h. */
#define _POSIX_C_SOURCE 200809L

#include "dft_ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct sockaddr_in dft_loopback_addr(int port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sin;
}

int dft_loopback_port(int type, int port) {
  int s = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return 0;
  }
  struct sockaddr_in sin = dft_loopback_addr(port);
  socklen_t len = sizeof sin;
  int bound = 0;
  if (bind(s, (struct sockaddr *)&sin, sizeof sin) == 0 &&
      getsockname(s, (struct sockaddr *)&sin, &len) == 0) {
    bound = ntohs(sin.sin_port);
  }
  close(s);
  return bound;
}
