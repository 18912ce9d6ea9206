// read_handles against a forked child that opens one fd of every kind with known state.
#include "linux/fd_inspect.h"

#include <span>
#include <string_view>
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

#include <cstring>
#include <map>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "unit/fd_child.h"

#include "linux/fdinfo.h"
#include "linux/procfs.h"
#include "linux/socket_table.h"

namespace snapdump::os {
namespace {
using test::ChildFds;
using test::FdChild;
using test::kAllHandleInfo;

std::map<int, HandleEntry> by_fd(std::span<const HandleEntry> handles) {
  std::map<int, HandleEntry> map;
  for (const HandleEntry& entry : handles) map[entry.fd] = entry;
  return map;
}

template <typename T>
const T& specific(const std::map<int, HandleEntry>& handles, int fd) {
  static const T empty{};
  auto found = handles.find(fd);
  if (found == handles.end()) {
    ADD_FAILURE() << "fd " << fd << " missing";
    return empty;
  }
  EXPECT_TRUE(found->second.has_type_specific) << "fd " << fd;
  const T* value = std::get_if<T>(&found->second.type_specific);
  if (value == nullptr) {
    ADD_FAILURE() << "fd " << fd << " has another type-specific record";
    return empty;
  }
  return *value;
}

class FdInspectTest : public ::testing::Test {
 protected:
  FdChild child;
};

TEST_F(FdInspectTest, KindsAndTypeNames) {
  auto handles = by_fd(read_handles(child.pid(), kAllHandleInfo));
  const ChildFds& f = child.fds();
  struct Expected { int fd; FdKind kind; const char* type_name; };
  const Expected expected[] = {
      {f.eventfd42, FdKind::eventfd, "EventFd"},   {f.pipe_read, FdKind::pipe, "Pipe"},
      {f.pipe_write, FdKind::pipe, "Pipe"},        {f.timerfd, FdKind::timerfd, "TimerFd"},
      {f.pair0, FdKind::socket, "Socket"},         {f.tcp_listener, FdKind::socket, "Socket"},
      {f.memfd, FdKind::memfd, "MemFd"},           {f.signalfd, FdKind::signalfd, "SignalFd"},
      {f.epoll, FdKind::epoll, "Epoll"},           {f.inotify, FdKind::inotify, "Inotify"},
      {f.pidfd, FdKind::pidfd, "PidFd"},           {f.directory, FdKind::directory, "Directory"},
      {f.file, FdKind::regular, "File"},           {f.dev_null, FdKind::char_device, "CharDevice"},
      {f.fifo, FdKind::fifo, "Fifo"},
  };
  for (const Expected& e : expected) {
    ASSERT_TRUE(handles.count(e.fd)) << "fd " << e.fd;
    const HandleEntry& entry = handles[e.fd];
    EXPECT_EQ(entry.kind, e.kind) << "fd " << e.fd << " " << entry.name;
    EXPECT_EQ(std::string_view(entry.type_name), e.type_name) << "fd " << e.fd;
    EXPECT_GT(entry.capture_time_unix_ns, 0u);
  }
  EXPECT_STREQ(to_string(FdKind::eventfd), "eventfd");
  EXPECT_STREQ(to_string(FdKind::anon_inode), "anon_inode");
}

TEST_F(FdInspectTest, NamesAndBasicInformation) {
  auto handles = by_fd(read_handles(child.pid(), kAllHandleInfo));
  const ChildFds& f = child.fds();

  const HandleEntry& file = handles[f.file];
  EXPECT_TRUE(file.has_name);
  EXPECT_TRUE(file.has_basic);
  EXPECT_EQ(std::string(file.name), child.file_path());
  EXPECT_EQ(file.position, 3u);
  EXPECT_EQ(file.open_flags & O_ACCMODE, static_cast<uint32_t>(O_RDWR));
  EXPECT_EQ(file.granted_access, 0xC0000000u);
  struct stat st {};
  ASSERT_EQ(::stat(child.file_path().c_str(), &st), 0);
  EXPECT_EQ(file.inode, st.st_ino);
  EXPECT_EQ(file.mode, st.st_mode);
  EXPECT_GT(file.mount_id, 0u);

  const HandleEntry& null = handles[f.dev_null];
  EXPECT_EQ(std::string_view(null.name), "/dev/null");
  EXPECT_EQ(null.granted_access, 0x40000000u);
  EXPECT_TRUE(null.open_flags & O_APPEND);

  const HandleEntry& directory = handles[f.directory];
  EXPECT_EQ(std::string_view(directory.name), "/tmp");
  EXPECT_EQ(directory.granted_access, 0x80000000u);
  EXPECT_TRUE(S_ISDIR(directory.mode));

  const HandleEntry& memfd = handles[f.memfd];
  EXPECT_EQ(std::string_view(memfd.name), "/memfd:sd memfd (deleted)");
  EXPECT_TRUE(memfd.open_flags & O_CLOEXEC);
  EXPECT_EQ(handles[f.eventfd_semaphore].open_flags & O_NONBLOCK,
            static_cast<uint32_t>(O_NONBLOCK));
  EXPECT_EQ(std::string_view(handles[f.fifo].name), child.fifo_path());
}

TEST_F(FdInspectTest, HandlesOnlyGivesKindsWithoutDetails) {
  auto handles = by_fd(read_handles(child.pid(), capture::kHandles));
  const HandleEntry& eventfd = handles[child.fds().eventfd42];
  EXPECT_EQ(eventfd.kind, FdKind::eventfd);
  EXPECT_FALSE(eventfd.has_name);
  EXPECT_FALSE(eventfd.has_basic);
  EXPECT_FALSE(eventfd.has_type_specific);
  EXPECT_TRUE(eventfd.name.empty());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(eventfd.type_specific));
  EXPECT_TRUE(read_handles(child.pid(), capture::kHandleNameInformation).empty());
}

TEST_F(FdInspectTest, EventFdTimerFdSignalFd) {
  auto handles = by_fd(read_handles(child.pid(), kAllHandleInfo));
  const ChildFds& f = child.fds();
  const auto& counter = specific<EventFdInfo>(handles, f.eventfd42);
  EXPECT_EQ(counter.count, 42u);
  EXPECT_FALSE(counter.semaphore);
  const auto& semaphore = specific<EventFdInfo>(handles, f.eventfd_semaphore);
  EXPECT_EQ(semaphore.count, 7u);
  EXPECT_TRUE(semaphore.semaphore);

  const auto& timer = specific<TimerFdInfo>(handles, f.timerfd);
  EXPECT_EQ(timer.clock_id, CLOCK_MONOTONIC);
  EXPECT_EQ(timer.ticks, 0u);
  EXPECT_EQ(timer.settime_flags, 0u);
  EXPECT_EQ(timer.interval_ns, 2'500'000'000u);
  EXPECT_LE(timer.value_ns, 100'000'000'000u);  // it_value is the time left
  EXPECT_GT(timer.value_ns, 90'000'000'000u);

  const auto& signals = specific<SignalFdInfo>(handles, f.signalfd);
  EXPECT_EQ(signals.mask, (uint64_t{1} << (SIGUSR1 - 1)) | (uint64_t{1} << (SIGUSR2 - 1)));
}

TEST_F(FdInspectTest, EpollInotifyPidfdMemfdPipe) {
  auto handles = by_fd(read_handles(child.pid(), kAllHandleInfo));
  const ChildFds& f = child.fds();

  const auto& epoll = specific<EpollInfo>(handles, f.epoll);
  ASSERT_EQ(epoll.watches.size(), 2u);
  std::map<int, EpollWatch> watches;
  for (const EpollWatch& watch : epoll.watches) watches[watch.fd] = watch;
  // epoll_ctl always adds EPOLLERR | EPOLLHUP to the registered events.
  EXPECT_EQ(watches[f.eventfd42].events, static_cast<uint32_t>(EPOLLIN | EPOLLERR | EPOLLHUP));
  EXPECT_EQ(watches[f.eventfd42].data, 0x1234u);
  EXPECT_EQ(watches[f.pipe_read].events,
            static_cast<uint32_t>(EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP));
  EXPECT_EQ(watches[f.pipe_read].data, 0xabcdefu);

  const auto& inotify = specific<InotifyInfo>(handles, f.inotify);
  ASSERT_EQ(inotify.watches.size(), 1u);
  struct stat tmp {};
  ASSERT_EQ(::stat("/tmp", &tmp), 0);
  EXPECT_EQ(inotify.watches[0].wd, f.inotify_wd);
  EXPECT_EQ(inotify.watches[0].inode, tmp.st_ino);
  EXPECT_EQ(inotify.watches[0].mask & (IN_CREATE | IN_DELETE),
            static_cast<uint32_t>(IN_CREATE | IN_DELETE));

  EXPECT_EQ(specific<PidfdInfo>(handles, f.pidfd).pid, ::getpid());

  const auto& memfd = specific<MemfdInfo>(handles, f.memfd);
  EXPECT_EQ(std::string_view(memfd.name), "sd memfd");
  EXPECT_EQ(memfd.size, 8192u);
  EXPECT_EQ(memfd.seals, static_cast<uint32_t>(F_SEAL_SHRINK | F_SEAL_GROW));

  const auto& read_end = specific<PipeInfo>(handles, f.pipe_read);
  const auto& write_end = specific<PipeInfo>(handles, f.pipe_write);
  EXPECT_NE(read_end.inode, 0u);
  EXPECT_EQ(read_end.inode, write_end.inode);
  EXPECT_TRUE(read_end.read_end);
  EXPECT_FALSE(read_end.write_end);
  EXPECT_TRUE(write_end.write_end);
  EXPECT_FALSE(write_end.read_end);
  EXPECT_EQ(std::string_view(handles[f.pipe_read].name), "pipe:[" + std::to_string(read_end.inode) + "]");

  const auto& fifo = specific<PipeInfo>(handles, f.fifo);
  EXPECT_TRUE(fifo.read_end && fifo.write_end);
}

TEST_F(FdInspectTest, Sockets) {
  auto handles = by_fd(read_handles(child.pid(), kAllHandleInfo));
  const ChildFds& f = child.fds();

  const auto& tcp = specific<SocketInfo>(handles, f.tcp_listener);
  EXPECT_EQ(tcp.family, AF_INET);
  EXPECT_EQ(tcp.type, SOCK_STREAM);
  EXPECT_EQ(tcp.protocol, IPPROTO_TCP);
  EXPECT_EQ(std::string_view(tcp.local_address), "127.0.0.1:" + std::to_string(f.tcp_port));
  EXPECT_EQ(std::string_view(tcp.remote_address), "0.0.0.0:0");
  EXPECT_EQ(tcp.state, "LISTEN");
  EXPECT_EQ(std::string_view(handles[f.tcp_listener].name), "socket:[" + std::to_string(tcp.inode) + "]");

  const auto& udp = specific<SocketInfo>(handles, f.udp);
  EXPECT_EQ(udp.family, AF_INET);
  EXPECT_EQ(udp.type, SOCK_DGRAM);
  EXPECT_EQ(udp.protocol, IPPROTO_UDP);
  EXPECT_EQ(std::string_view(udp.local_address), "127.0.0.1:" + std::to_string(f.udp_port));

  const auto& listener = specific<SocketInfo>(handles, f.unix_listener);
  EXPECT_EQ(listener.family, AF_UNIX);
  EXPECT_EQ(listener.type, SOCK_STREAM);
  EXPECT_EQ(std::string_view(listener.local_address), "@" + child.abstract_name());
  EXPECT_EQ(listener.state, "LISTEN");

  const auto& unbound = specific<SocketInfo>(handles, f.tcp_unbound);
  EXPECT_EQ(unbound.family, AF_INET);
  EXPECT_EQ(unbound.type, SOCK_STREAM);
  EXPECT_EQ(unbound.protocol, IPPROTO_TCP);
  EXPECT_NE(unbound.inode, 0u);
  EXPECT_EQ(std::string_view(unbound.local_address), "");

  const auto& pair = specific<SocketInfo>(handles, f.pair0);
  EXPECT_EQ(pair.family, AF_UNIX);
  EXPECT_EQ(pair.state, "CONNECTED");
  EXPECT_EQ(std::string_view(pair.local_address), "");
}

TEST(FdInspectErrors, NonexistentPid) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  try {
    read_handles(pid, kAllHandleInfo);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), Errc::no_such_process);
  }
}

TEST(FdInspectErrors, OtherUsersProcessIsPermissionDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to another user";
  // The child becomes "nobody" and inspects this (root) process.
  int result[2];
  ASSERT_EQ(::pipe(result), 0);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    char code = 'x';
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
      try {
        read_handles(parent, kAllHandleInfo);
        code = 'o';
      } catch (const Error& error) {
        code = error.code() == Errc::permission_denied &&
                       std::string(error.what()).find("CAP_SYS_PTRACE") != std::string::npos
                   ? 'p'
                   : 'e';
      }
    }
    [[maybe_unused]] ssize_t n = ::write(result[1], &code, 1);
    ::_exit(0);
  }
  ::close(result[1]);
  char code = 0;
  EXPECT_EQ(::read(result[0], &code, 1), 1);
  ::close(result[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_EQ(code, 'p');
}

TEST(FdInspectParse, ClassifyLinks) {
  EXPECT_EQ(classify_fd("anon_inode:[eventfd]", 0), FdKind::eventfd);
  EXPECT_EQ(classify_fd("anon_inode:inotify", 0), FdKind::inotify);
  EXPECT_EQ(classify_fd("anon_inode:[fanotify]", 0), FdKind::fanotify);
  EXPECT_EQ(classify_fd("anon_inode:[perf_event]", 0), FdKind::perf_event);
  EXPECT_EQ(classify_fd("anon_inode:bpf-map", 0), FdKind::bpf);
  EXPECT_EQ(classify_fd("anon_inode:[io_uring]", 0), FdKind::io_uring);
  EXPECT_EQ(classify_fd("anon_inode:[userfaultfd]", 0), FdKind::userfaultfd);
  EXPECT_EQ(classify_fd("anon_inode:[something new]", 0), FdKind::anon_inode);
  EXPECT_EQ(classify_fd("anon_inode:", 0), FdKind::anon_inode);
  EXPECT_EQ(classify_fd("/dev/sda", S_IFBLK | 0660), FdKind::block_device);
  EXPECT_EQ(classify_fd("/gone", 0), FdKind::unknown);
  EXPECT_EQ(classify_fd("/memfd:x (deleted)", S_IFREG | 0777), FdKind::memfd);
  EXPECT_EQ(classify_fd("/memfd:x", S_IFREG | 0644), FdKind::regular);
  EXPECT_STREQ(fd_type_name(FdKind::block_device), "BlockDevice");
}

TEST(FdInspectParse, FdinfoOddInput) {
  EXPECT_EQ(parse_fdinfo_basic("pos:\t12\nflags:\t0100002\nmnt_id:\t30\nino:\t77\n").flags,
            0100002u);  // the kernel's O_LARGEFILE, which user space on x86-64 defines as 0
  FdInfoBasic junk = parse_fdinfo_basic("pos: x\nflags: 9\nmnt_id\n");
  EXPECT_EQ(junk.position, 0u);
  EXPECT_EQ(junk.flags, 0u);  // 9 is not octal
  TimerFdInfo timer = parse_timerfd_fdinfo(
      "clockid: 1\nticks: 3\nsettime flags: 01\nit_value: (5, 7)\nit_interval: (1, 2\n");
  EXPECT_EQ(timer.clock_id, 1);
  EXPECT_EQ(timer.ticks, 3u);
  EXPECT_EQ(timer.settime_flags, 1u);
  EXPECT_EQ(timer.value_ns, 5'000'000'007u);
  EXPECT_EQ(timer.interval_ns, 0u);
  EpollInfo epoll = parse_epoll_fdinfo("tfd: 3 events: 19 data: ff pos:0\ntfd: x events:\ntfd:\n");
  ASSERT_EQ(epoll.watches.size(), 1u);
  EXPECT_EQ(epoll.watches[0].events, 0x19u);
  EXPECT_EQ(epoll.watches[0].data, 0xffu);
  InotifyInfo inotify =
      parse_inotify_fdinfo("inotify wd:1a ino:2b sdev:5 mask:100 ignored_mask:0\ninotify wd:\n");
  ASSERT_EQ(inotify.watches.size(), 1u);
  EXPECT_EQ(inotify.watches[0].wd, 0x1a);
  EXPECT_EQ(inotify.watches[0].inode, 0x2bu);
  EXPECT_EQ(parse_pidfd_fdinfo("Pid:\t-1\n").pid, -1);
}

TEST(FdInspectParse, SocketTables) {
  SocketTable table;
  parse_inet_sockets(
      "  sl  local_address                         remote_address                        st\n"
      "   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 555 1\n"
      "   1: 0000:1 bad\n",
      AF_INET6, SOCK_STREAM, IPPROTO_TCP, table);
  ASSERT_EQ(table.count(555), 1u);
  EXPECT_EQ(std::string_view(table[555].local_address), "[::1]:8080");
  EXPECT_EQ(std::string_view(table[555].remote_address), "[::]:0");
  EXPECT_EQ(table[555].state, "LISTEN");
  parse_unix_sockets(
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 777 /run/with space.sock\n"
      "0000000000000000: 00000002\n",
      table);
  EXPECT_EQ(std::string_view(table[777].local_address), "/run/with space.sock");
  EXPECT_EQ(table[777].state, "LISTEN");
  parse_netlink_sockets(
      "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
      "0000000071ba8618 4   1234       00000000 0        0        0     2        0        1430\n",
      table);
  EXPECT_EQ(table[1430].family, AF_NETLINK);
  EXPECT_EQ(table[1430].protocol, 4);
  EXPECT_EQ(std::string_view(table[1430].local_address), "1234");
  EXPECT_EQ(table.size(), 3u);
}

TEST(FdInspectErrors, OwnProcessHasStandardStreams) {
  auto handles = by_fd(read_handles(::getpid(), kAllHandleInfo));
  for (int fd : {0, 1, 2}) {
    if (::fcntl(fd, F_GETFD) < 0) continue;  // a test runner may close them
    ASSERT_TRUE(handles.count(fd)) << fd;
    EXPECT_NE(handles[fd].kind, FdKind::unknown) << handles[fd].name;
  }
}

TEST(FdInspectParse, ParsersSurviveRandomText) {
  std::string seed =
      "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t1039\neventfd-count: 2a\n"
      "clockid: 1\nticks: 0\nsettime flags: 01\nit_value: (5, 7)\nit_interval: (1, 2)\n"
      "sigmask:\t0000000000000a00\ntfd: 3 events: 19 data: ff pos:0 ino:c85 sdev:5\n"
      "inotify wd:1 ino:2b sdev:5 mask:100 ignored_mask:0\nPid:\t-1\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 555 1\n"
      "0000000000000000: 00000002 00000000 00010000 0001 01 777 /run/x.sock\n"
      "0000000071ba8618 4   1234       00000000 0        0        0     2        0        1430\n";
  std::mt19937 random(54321);
  const char alphabet[] = "0123456789abcdefx-: ()\n\t[]/,@";
  for (int round = 0; round < 500; ++round) {
    std::string text = seed.substr(random() % seed.size());
    for (int i = 0; i < 20 && !text.empty(); ++i) {
      text[random() % text.size()] = alphabet[random() % (sizeof alphabet - 1)];
    }
    parse_fdinfo_basic(text);
    parse_eventfd_fdinfo(text);
    parse_timerfd_fdinfo(text);
    parse_signalfd_fdinfo(text);
    parse_epoll_fdinfo(text);
    parse_inotify_fdinfo(text);
    parse_pidfd_fdinfo(text);
    SocketTable table;
    parse_inet_sockets(text, AF_INET, SOCK_STREAM, IPPROTO_TCP, table);
    parse_inet_sockets(text, AF_INET6, SOCK_RAW, 0, table);
    parse_unix_sockets(text, table);
    parse_netlink_sockets(text, table);
    for (const auto& [inode, info] : table) EXPECT_EQ(inode, info.inode);
  }
}

}  // namespace
}  // namespace snapdump::os
