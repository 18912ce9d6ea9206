// A forked child that opens one fd of every kind with known state, shared by the tests of
// read_handles (fd_inspect_test.cpp, fd_heap_free_test.cpp).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/close_range.h>

#include <cstddef>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/snapshot_types.h"

namespace snapdump::os::test {

constexpr CaptureFlags kAllHandleInfo = capture::kHandles | capture::kHandleNameInformation |
                                        capture::kHandleBasicInformation |
                                        capture::kHandleTypeSpecificInformation;

// What the child opened, sent back through a pipe as plain ints (the child only makes
// syscalls after fork).
struct ChildFds {
  int eventfd42, eventfd_semaphore, pipe_read, pipe_write, timerfd, pair0, pair1, tcp_listener;
  int tcp_port, udp, udp_port, unix_listener, memfd, signalfd, epoll, inotify, inotify_wd, pidfd;
  int directory, file, dev_null, fifo, tcp_unbound;
  int ok;
};

class FdChild {
 public:
  FdChild() {
    tag_ = std::to_string(::getpid());
    file_path_ = "/tmp/snapdump-fd-test-" + tag_ + ".txt";
    fifo_path_ = "/tmp/snapdump-fd-test-" + tag_ + ".fifo";
    abstract_name_ = "snapdump-fd-test-" + tag_;
    ::unlink(fifo_path_.c_str());
    EXPECT_EQ(::mkfifo(fifo_path_.c_str(), 0600), 0);
    int report[2];
    EXPECT_EQ(::pipe(report), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(report[0]);
      // Only the fds made below: one inherited from the test runner (ctest's output file, say)
      // shares its offset with a writer that keeps moving it, so two readings would differ.
      if (report[1] > 3) ::close_range(3, static_cast<unsigned>(report[1]) - 1, 0);
      ::close_range(static_cast<unsigned>(report[1]) + 1, ~0u, 0);
      ChildFds fds = open_everything();
      if (::write(report[1], &fds, sizeof fds) != sizeof fds) ::_exit(1);
      while (true) ::pause();
    }
    ::close(report[1]);
    EXPECT_EQ(::read(report[0], &fds_, sizeof fds_), static_cast<ssize_t>(sizeof fds_));
    ::close(report[0]);
    EXPECT_EQ(fds_.ok, 1);
  }
  ~FdChild() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::unlink(file_path_.c_str());
    ::unlink(fifo_path_.c_str());
  }
  pid_t pid() const { return pid_; }
  const ChildFds& fds() const { return fds_; }
  const std::string& file_path() const { return file_path_; }
  const std::string& fifo_path() const { return fifo_path_; }
  const std::string& abstract_name() const { return abstract_name_; }

 private:
  ChildFds open_everything() {
    ChildFds f{};
    f.eventfd42 = ::eventfd(42, 0);
    f.eventfd_semaphore = ::eventfd(7, EFD_SEMAPHORE | EFD_NONBLOCK);
    int p[2] = {-1, -1};
    bool calls_ok = ::pipe(p) == 0;
    f.pipe_read = p[0];
    f.pipe_write = p[1];

    f.timerfd = ::timerfd_create(CLOCK_MONOTONIC, 0);
    itimerspec spec{};
    spec.it_value.tv_sec = 100;
    spec.it_interval.tv_sec = 2;
    spec.it_interval.tv_nsec = 500'000'000;
    ::timerfd_settime(f.timerfd, 0, &spec, nullptr);

    int pair[2];
    ::socketpair(AF_UNIX, SOCK_STREAM, 0, pair);
    f.pair0 = pair[0];
    f.pair1 = pair[1];

    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof in;
    f.tcp_listener = ::socket(AF_INET, SOCK_STREAM, 0);
    ::bind(f.tcp_listener, reinterpret_cast<sockaddr*>(&in), sizeof in);
    ::listen(f.tcp_listener, 4);
    ::getsockname(f.tcp_listener, reinterpret_cast<sockaddr*>(&in), &length);
    f.tcp_port = ntohs(in.sin_port);
    f.udp = ::socket(AF_INET, SOCK_DGRAM, 0);
    in.sin_port = 0;
    ::bind(f.udp, reinterpret_cast<sockaddr*>(&in), sizeof in);
    length = sizeof in;
    ::getsockname(f.udp, reinterpret_cast<sockaddr*>(&in), &length);
    f.udp_port = ntohs(in.sin_port);

    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path + 1, abstract_name_.data(), abstract_name_.size());
    f.unix_listener = ::socket(AF_UNIX, SOCK_STREAM, 0);
    ::bind(f.unix_listener, reinterpret_cast<sockaddr*>(&un),
           static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name_.size()));
    ::listen(f.unix_listener, 4);

    f.memfd = ::memfd_create("sd memfd", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    calls_ok = calls_ok && ::ftruncate(f.memfd, 8192) == 0;
    calls_ok = calls_ok && ::fcntl(f.memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    f.signalfd = ::signalfd(-1, &mask, SFD_NONBLOCK);

    f.epoll = ::epoll_create1(0);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = 0x1234;
    ::epoll_ctl(f.epoll, EPOLL_CTL_ADD, f.eventfd42, &event);
    event.events = EPOLLIN | EPOLLET;
    event.data.u64 = 0xabcdef;
    ::epoll_ctl(f.epoll, EPOLL_CTL_ADD, f.pipe_read, &event);

    f.inotify = ::inotify_init1(IN_NONBLOCK);
    f.inotify_wd = ::inotify_add_watch(f.inotify, "/tmp", IN_CREATE | IN_DELETE);
    f.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getppid(), 0));

    f.directory = ::open("/tmp", O_RDONLY | O_DIRECTORY);
    f.file = ::open(file_path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    calls_ok = calls_ok && ::write(f.file, "0123456789", 10) == 10;
    calls_ok = calls_ok && ::lseek(f.file, 3, SEEK_SET) == 3;
    f.dev_null = ::open("/dev/null", O_WRONLY | O_APPEND);
    f.fifo = ::open(fifo_path_.c_str(), O_RDWR | O_NONBLOCK);
    f.tcp_unbound = ::socket(AF_INET, SOCK_STREAM, 0);  // unbound: not in /proc/net/tcp

    const int all[] = {f.eventfd42, f.eventfd_semaphore, f.pipe_read, f.timerfd, f.pair0,
                       f.tcp_listener, f.udp, f.unix_listener, f.memfd, f.signalfd, f.epoll,
                       f.inotify, f.inotify_wd, f.pidfd, f.directory, f.file, f.dev_null, f.fifo, f.tcp_unbound};
    f.ok = calls_ok ? 1 : 0;
    for (int fd : all) {
      if (fd < 0) f.ok = 0;
    }
    return f;
  }

  pid_t pid_ = -1;
  ChildFds fds_{};
  std::string tag_, file_path_, fifo_path_, abstract_name_;
};

}  // namespace snapdump::os::test
