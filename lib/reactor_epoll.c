/* The Linux backend of the reactor: epoll for descriptors, a timerfd that
 * makes the epoll set readable when the earliest timer falls due (so an
 * embedding loop only has to poll one fd), and CLOCK_MONOTONIC. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"

/* Enough for a busy round; more ready fds are simply reported next round. */
#define DF__EPOLL_BATCH 128

uint64_t df__clock_now_ns(void) {
  struct timespec ts;
  /* CLOCK_MONOTONIC cannot fail on Linux with a valid pointer. */
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static uint32_t to_epoll(unsigned events) {
  uint32_t e = 0;
  if (events & DF_READABLE)
    e |= EPOLLIN;
  if (events & DF_WRITABLE)
    e |= EPOLLOUT;
  return e;
}

static unsigned from_epoll(uint32_t e) {
  unsigned events = 0;
  if (e & (EPOLLIN | EPOLLPRI))
    events |= DF_READABLE;
  if (e & EPOLLOUT)
    events |= DF_WRITABLE;
  if (e & (EPOLLHUP | EPOLLRDHUP))
    events |= DF_HANGUP;
  if (e & EPOLLERR)
    events |= DF_IO_ERROR;
  return events;
}

int df__poller_open(void) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

static int control(int poll_fd, int op, int fd, unsigned events, void *data) {
  struct epoll_event ev;
  ev.events = to_epoll(events);
  ev.data.ptr = data;
  return epoll_ctl(poll_fd, op, fd, &ev) == 0 ? 0 : -errno;
}

int df__poller_add(int poll_fd, int fd, unsigned events, void *data) {
  return control(poll_fd, EPOLL_CTL_ADD, fd, events, data);
}

int df__poller_modify(int poll_fd, int fd, unsigned events, void *data) {
  return control(poll_fd, EPOLL_CTL_MOD, fd, events, data);
}

void df__poller_remove(int poll_fd, int fd) {
  struct epoll_event ev = {0};
  /* ENOENT/EBADF mean the kernel dropped it already (the fd was closed). */
  (void)epoll_ctl(poll_fd, EPOLL_CTL_DEL, fd, &ev);
}

int df__poller_wait(int poll_fd, df__poll_event *out, int max, int timeout_ms) {
  struct epoll_event evs[DF__EPOLL_BATCH];
  int n;

  if (max > DF__EPOLL_BATCH)
    max = DF__EPOLL_BATCH;
  n = epoll_wait(poll_fd, evs, max, timeout_ms);
  if (n < 0)
    return errno == EINTR ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    out[i].data = evs[i].data.ptr;
    out[i].events = from_epoll(evs[i].events);
  }
  return n;
}

int df__timerfd_open(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  return fd < 0 ? -errno : fd;
}

int df__timerfd_arm(int timer_fd, uint64_t deadline_ns) {
  struct itimerspec spec = {{0, 0}, {0, 0}};
  if (deadline_ns != 0) {
    uint64_t sec = deadline_ns / UINT64_C(1000000000);
    /* A clamped, far-away deadline must not overflow time_t. */
    if (sec > (uint64_t)INT32_MAX * 2)
      sec = (uint64_t)INT32_MAX * 2;
    spec.it_value.tv_sec = (time_t)sec;
    spec.it_value.tv_nsec = (long)(deadline_ns % UINT64_C(1000000000));
  }
  return timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL) == 0
             ? 0
             : -errno;
}

void df__timerfd_drain(int timer_fd) {
  uint64_t expirations;
  /* EAGAIN: a re-arm already cleared it. */
  (void)!read(timer_fd, &expirations, sizeof expirations);
}
