#include "target_fds.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "target_cleanup.h"
#include "target_json.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace sdtarget {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "snapdump_target: %s: %s\n", what.c_str(), std::strerror(errno));
  std::exit(1);
}

int check(int fd, const char* what) {
  if (fd < 0) fail(what);
  return fd;
}

std::string temp_path(const char* suffix) {
  return "/tmp/snapdump-target-" + std::to_string(getpid()) + suffix;
}

// The child only exists to be the subject of a pidfd. It dies with the target (PDEATHSIG),
// holds none of the target's fds, and must not run the target's cleanup if signalled.
[[noreturn]] void child_body(pid_t parent) {
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) signal(signal_number, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(0);
  int null_fd = open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) dup2(null_fd, fd);
  close_range(3, ~0U, 0);
  prctl(PR_SET_NAME, "sd-child");
  for (;;) {
    timespec request{1, 0};
    nanosleep(&request, nullptr);
  }
}

nlohmann::json make_pidfd() {
  const pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) fail("fork");
  if (child == 0) child_body(parent);
  register_child(child);
  int fd = check(static_cast<int>(syscall(SYS_pidfd_open, child, 0)), "pidfd_open");
  nlohmann::json entry = fd_entry(fd, "pidfd");
  entry["pid"] = child;
  entry["link_prefix"] = "anon_inode:[pidfd]";
  return entry;
}

nlohmann::json make_regular_file() {
  const std::string path = temp_path(".dat");
  int fd = check(open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600), "open regular file");
  register_temp_path(path.c_str());
  unsigned char block[4096];
  for (std::size_t i = 0; i < sizeof block; ++i) block[i] = static_cast<unsigned char>(i);
  if (write(fd, block, sizeof block) != static_cast<ssize_t>(sizeof block)) fail("write file");
  if (lseek(fd, 1234, SEEK_SET) != 1234) fail("lseek");
  nlohmann::json entry = fd_entry(fd, "file");
  entry["path"] = path;
  entry["offset"] = 1234;
  entry["size"] = sizeof block;
  entry["content"] = "byte i = i & 0xff";
  entry["link_prefix"] = path;
  return entry;
}

nlohmann::json make_fifo() {
  const std::string path = temp_path(".fifo");
  unlink(path.c_str());
  if (mkfifo(path.c_str(), 0600) != 0) fail("mkfifo");
  register_temp_path(path.c_str());
  // O_RDWR so the open does not wait for a writer (Linux allows it on FIFOs).
  int fd = check(open(path.c_str(), O_RDWR), "open fifo");
  nlohmann::json entry = fd_entry(fd, "fifo");
  entry["path"] = path;
  entry["link_prefix"] = path;
  return entry;
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  return address;
}

std::uint16_t local_port(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) fail("getsockname");
  return ntohs(address.sin_port);
}

nlohmann::json socket_entry(int fd, const char* kind) {
  nlohmann::json entry = fd_entry(fd, kind);
  entry["link_prefix"] = "socket:[";
  return entry;
}

void make_sockets(nlohmann::json& fds) {
  int pair[2];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), "socketpair");
  for (int i = 0; i < 2; ++i) {
    nlohmann::json entry = socket_entry(pair[i], "unix_socketpair");
    entry["peer_fd"] = pair[1 - i];
    fds.push_back(std::move(entry));
  }

  const std::string abstract_name = "snapdump-target-" + std::to_string(getpid());
  int unix_listener = check(socket(AF_UNIX, SOCK_STREAM, 0), "unix socket");
  sockaddr_un unix_address{};
  unix_address.sun_family = AF_UNIX;
  // Abstract names start with a NUL byte and are not NUL terminated; the length says where
  // they end. Nothing to unlink afterwards.
  std::memcpy(unix_address.sun_path + 1, abstract_name.data(), abstract_name.size());
  auto unix_length =
      static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + abstract_name.size());
  if (bind(unix_listener, reinterpret_cast<sockaddr*>(&unix_address), unix_length) != 0 ||
      listen(unix_listener, 4) != 0)
    fail("abstract unix listen");
  nlohmann::json unix_entry = socket_entry(unix_listener, "unix_listen");
  unix_entry["address"] = "@" + abstract_name;
  fds.push_back(std::move(unix_entry));

  int tcp_listener = check(socket(AF_INET, SOCK_STREAM, 0), "tcp socket");
  sockaddr_in address = loopback(0);
  if (bind(tcp_listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      listen(tcp_listener, 4) != 0)
    fail("tcp listen");
  const std::uint16_t listen_port = local_port(tcp_listener);
  nlohmann::json listen_entry = socket_entry(tcp_listener, "tcp_listen");
  listen_entry["address"] = "127.0.0.1";
  listen_entry["port"] = listen_port;
  fds.push_back(std::move(listen_entry));

  // Loopback connect completes from the backlog, so no second thread is needed.
  int client = check(socket(AF_INET, SOCK_STREAM, 0), "tcp client socket");
  address = loopback(listen_port);
  if (connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    fail("tcp connect");
  int server = check(accept(tcp_listener, nullptr, nullptr), "tcp accept");
  const std::uint16_t client_port = local_port(client);
  nlohmann::json client_entry = socket_entry(client, "tcp_client");
  client_entry["local_port"] = client_port;
  client_entry["peer_port"] = listen_port;
  client_entry["peer_fd"] = server;
  fds.push_back(std::move(client_entry));
  nlohmann::json server_entry = socket_entry(server, "tcp_server");
  server_entry["local_port"] = listen_port;
  server_entry["peer_port"] = client_port;
  server_entry["peer_fd"] = client;
  fds.push_back(std::move(server_entry));

  int udp = check(socket(AF_INET, SOCK_DGRAM, 0), "udp socket");
  address = loopback(0);
  if (bind(udp, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("udp bind");
  nlohmann::json udp_entry = socket_entry(udp, "udp");
  udp_entry["address"] = "127.0.0.1";
  udp_entry["port"] = local_port(udp);
  fds.push_back(std::move(udp_entry));
}

void make_anon_inodes(nlohmann::json& fds, int pipe_read_fd) {
  int event = check(eventfd(42, EFD_NONBLOCK), "eventfd");
  nlohmann::json event_entry = fd_entry(event, "eventfd");
  event_entry["count"] = 42;
  event_entry["nonblock"] = true;
  event_entry["link_prefix"] = "anon_inode:[eventfd]";
  fds.push_back(event_entry);

  int timer = check(timerfd_create(CLOCK_MONOTONIC, 0), "timerfd_create");
  itimerspec schedule{};
  schedule.it_value.tv_sec = 10;
  schedule.it_interval.tv_sec = 5;
  if (timerfd_settime(timer, 0, &schedule, nullptr) != 0) fail("timerfd_settime");
  nlohmann::json timer_entry = fd_entry(timer, "timerfd");
  timer_entry["clock"] = "CLOCK_MONOTONIC";
  timer_entry["value_s"] = 10;
  timer_entry["interval_s"] = 5;
  timer_entry["link_prefix"] = "anon_inode:[timerfd]";
  fds.push_back(timer_entry);

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGUSR2);
  int signal_fd = check(signalfd(-1, &signals, 0), "signalfd");
  nlohmann::json signal_entry = fd_entry(signal_fd, "signalfd");
  signal_entry["signals"] = {"SIGUSR2"};
  signal_entry["sigmask"] = hex(std::uint64_t{1} << (SIGUSR2 - 1));
  signal_entry["link_prefix"] = "anon_inode:[signalfd]";
  fds.push_back(signal_entry);

  int epoll = check(epoll_create1(0), "epoll_create1");
  epoll_event watch{};
  watch.events = EPOLLIN;
  watch.data.u64 = 0xE1;
  if (epoll_ctl(epoll, EPOLL_CTL_ADD, event, &watch) != 0) fail("epoll_ctl eventfd");
  watch.events = EPOLLIN | EPOLLET;
  watch.data.u64 = 0xE2;
  if (epoll_ctl(epoll, EPOLL_CTL_ADD, pipe_read_fd, &watch) != 0) fail("epoll_ctl pipe");
  nlohmann::json epoll_entry = fd_entry(epoll, "epoll");
  epoll_entry["watches"] = {
      {{"fd", event}, {"events", EPOLLIN}, {"data", 0xE1}},
      {{"fd", pipe_read_fd}, {"events", static_cast<std::uint32_t>(EPOLLIN | EPOLLET)}, {"data", 0xE2}}};
  epoll_entry["link_prefix"] = "anon_inode:[eventpoll]";
  fds.push_back(epoll_entry);

  int notify = check(inotify_init1(0), "inotify_init1");
  int watch_descriptor = inotify_add_watch(notify, "/tmp", IN_CREATE | IN_DELETE);
  if (watch_descriptor < 0) fail("inotify_add_watch");
  nlohmann::json notify_entry = fd_entry(notify, "inotify");
  notify_entry["watches"] = {{{"wd", watch_descriptor},
                              {"path", "/tmp"},
                              {"mask", static_cast<std::uint32_t>(IN_CREATE | IN_DELETE)}}};
  notify_entry["link_prefix"] = "anon_inode:inotify";
  fds.push_back(notify_entry);

  int memory = check(memfd_create("snapdump-memfd", MFD_ALLOW_SEALING), "memfd_create");
  if (ftruncate(memory, 8192) != 0) fail("ftruncate memfd");
  if (fcntl(memory, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) fail("F_ADD_SEALS");
  nlohmann::json memory_entry = fd_entry(memory, "memfd");
  memory_entry["name"] = "snapdump-memfd";
  memory_entry["size"] = 8192;
  memory_entry["seals"] = F_SEAL_SHRINK | F_SEAL_GROW;
  memory_entry["link_prefix"] = "/memfd:snapdump-memfd";
  fds.push_back(memory_entry);
}

}  // namespace

nlohmann::json create_fds() {
  nlohmann::json fds = nlohmann::json::array();
  // First, while the target holds few fds and no threads: fork is simplest then.
  fds.push_back(make_pidfd());
  fds.push_back(make_regular_file());
  int directory = check(open("/tmp", O_RDONLY | O_DIRECTORY), "open /tmp");
  nlohmann::json directory_entry = fd_entry(directory, "directory");
  directory_entry["path"] = "/tmp";
  directory_entry["link_prefix"] = "/tmp";
  fds.push_back(directory_entry);

  int ends[2];
  check(pipe(ends), "pipe");
  nlohmann::json read_entry = fd_entry(ends[0], "pipe_read");
  read_entry["peer_fd"] = ends[1];
  read_entry["link_prefix"] = "pipe:[";
  nlohmann::json write_entry = fd_entry(ends[1], "pipe_write");
  write_entry["peer_fd"] = ends[0];
  write_entry["link_prefix"] = "pipe:[";
  fds.push_back(read_entry);
  fds.push_back(write_entry);

  fds.push_back(make_fifo());
  make_sockets(fds);
  make_anon_inodes(fds, ends[0]);
  return fds;
}

}  // namespace sdtarget
