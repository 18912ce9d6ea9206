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

#include "linux/fdinfo.h"
#include "linux/procfs.h"
#include "linux/socket_table.h"

namespace snapdump::os {
namespace {

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
