// Handle capture: one HandleEntry per fd of /proc/PID/fd, filled from the fd's link, a stat of
// the object behind it, and its fdinfo.
#include "common/records_in.h"
#include "linux/fd_inspect.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#include <fmt/core.h>

#include "linux/fdinfo.h"
#include "linux/proc_dir.h"
#include "linux/proc_files.h"
#include "linux/procfs.h"
#include "linux/socket_table.h"
#include "linux/text_buffer.h"
#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

// The Windows GENERIC_* rights a PSS consumer expects in GrantedAccess.
constexpr uint32_t kGenericRead = 0x80000000;
constexpr uint32_t kGenericWrite = 0x40000000;

// The result vector moves its entries when it grows; a copy instead would put their strings in
// the default resource.
static_assert(std::is_nothrow_move_constructible_v<HandleEntry>);

// What read_handles needs to know across fds of one call. The buffers are reused from fd to fd
// so that scratch grows with the largest item, not with the number of fds.
struct HandleReader {
  pid_t pid;
  CaptureFlags flags;
  std::pmr::memory_resource* out;
  std::pmr::memory_resource* scratch;
  TextBuffer fdinfo{scratch};
  std::pmr::string link{scratch};
  std::optional<SocketTable> sockets{};  // loaded on the first socket: the tables can be large
  bool sockets_reread = false;

  // The table's record of socket `inode`, or nullptr. The kernel prints /proc/PID/net/* a chunk
  // at a time, and sockets other processes open or close meanwhile shift the rest, so one
  // reading can miss a socket that exists; a miss reads the tables again, once per call (a
  // socket that is in no table, unbound or of another family, costs that one extra reading).
  const SocketInfo* find_socket(uint64_t inode) {
    if (!sockets) {
      sockets.emplace(scratch);
      read_socket_table(pid, *sockets, scratch);
    }
    if (auto found = sockets->find(inode); found != sockets->end()) return &found->second;
    if (sockets_reread) return nullptr;
    sockets_reread = true;
    sockets->clear();
    read_socket_table(pid, *sockets, scratch);
    auto found = sockets->find(inode);
    return found != sockets->end() ? &found->second : nullptr;
  }
};

// 0 on success, else errno.
int read_link(const char* path, std::pmr::string& target) {
  size_t size = std::max<size_t>(PATH_MAX, target.capacity());
  while (true) {
    target.resize(size);
    ssize_t n = ::readlink(path, target.data(), target.size());
    if (n < 0) return errno;
    if (static_cast<size_t>(n) < target.size()) {
      target.resize(static_cast<size_t>(n));
      return 0;
    }
    size *= 2;
  }
}

// The number in "pipe:[1234]" / "socket:[1234]".
uint64_t bracketed_inode(std::string_view link) {
  size_t open = link.find('[');
  if (open == std::string_view::npos || link.empty() || link.back() != ']') return 0;
  return text::parse_u64(link.substr(open + 1, link.size() - open - 2)).value_or(0);
}

uint32_t granted_access_of(uint32_t open_flags) {
  // An O_PATH fd grants neither reading nor writing, whatever its access bits say.
  if (open_flags & O_PATH) return 0;
  switch (open_flags & O_ACCMODE) {
    case O_RDONLY: return kGenericRead;
    case O_WRONLY: return kGenericWrite;
    case O_RDWR: return kGenericRead | kGenericWrite;
    default: return 0;
  }
}

MemfdInfo memfd_info(const char* fd_path, std::string_view link, const struct stat& st,
                     std::pmr::memory_resource* out) {
  std::string_view name = link.substr(7);  // after "/memfd:"
  constexpr std::string_view kDeleted = " (deleted)";
  if (name.ends_with(kDeleted)) name.remove_suffix(kDeleted.size());
  MemfdInfo info{.name = std::pmr::string(name, out)};
  info.size = static_cast<uint64_t>(st.st_size);
  // fdinfo does not show seals on every kernel. Seals belong to the inode, so a fresh open of
  // the same memfd through /proc reads them without touching the target's own descriptor.
  int fd = ::open(fd_path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals > 0) info.seals = static_cast<uint32_t>(seals);
    ::close(fd);
  }
  return info;
}

SocketInfo socket_info(HandleReader& reader, const char* fd_path, std::string_view link,
                       const struct stat& st) {
  uint64_t inode = bracketed_inode(link);
  if (inode == 0) inode = st.st_ino;
  std::pmr::memory_resource* out = reader.out;
  // A copy into `out`: a plain copy of the table's record would put its strings on the heap.
  if (const SocketInfo* found = reader.find_socket(inode)) return copy_in(*found, out);
  SocketInfo info = socket_info_in(out);
  info.inode = inode;
  // Not in the namespace's tables (unbound, packet, vsock, ...): the socket file system still
  // names the protocol, which gives family and type.
  char name[64] = {};
  ssize_t n = ::getxattr(fd_path, "system.sockprotoname", name, sizeof name - 1);
  if (n > 0) socket_from_protocol_name(std::string_view(name, ::strnlen(name, size_t(n))), info);
  return info;
}

TypeSpecific type_specific_info(HandleReader& reader, const HandleEntry& entry,
                                const char* fd_path, std::string_view link,
                                const struct stat& st, std::string_view fdinfo,
                                const FdInfoBasic& basic) {
  switch (entry.kind) {
    case FdKind::pipe:
    case FdKind::fifo: {
      PipeInfo pipe;
      pipe.inode = entry.kind == FdKind::pipe ? bracketed_inode(link) : st.st_ino;
      if (pipe.inode == 0) pipe.inode = st.st_ino;
      uint32_t access = basic.flags & O_ACCMODE;
      pipe.read_end = access == O_RDONLY || access == O_RDWR;
      pipe.write_end = access == O_WRONLY || access == O_RDWR;
      return pipe;
    }
    case FdKind::socket: return socket_info(reader, fd_path, link, st);
    case FdKind::eventfd: return parse_eventfd_fdinfo(fdinfo);
    case FdKind::timerfd: return parse_timerfd_fdinfo(fdinfo);
    case FdKind::signalfd: return parse_signalfd_fdinfo(fdinfo);
    case FdKind::epoll: return parse_epoll_fdinfo(fdinfo, reader.out);
    case FdKind::inotify: return parse_inotify_fdinfo(fdinfo, reader.out);
    case FdKind::pidfd: return parse_pidfd_fdinfo(fdinfo);
    case FdKind::memfd: return memfd_info(fd_path, link, st, reader.out);
    default: return std::monostate{};
  }
}

// Fills one entry; nullopt when the fd closed meanwhile.
std::optional<HandleEntry> read_handle(HandleReader& reader, int fd) {
  const ProcPath proc_path(reader.pid, "fd", fd);
  const char* fd_path = proc_path.c_str();
  if (int err = read_link(fd_path, reader.link); err != 0) {
    if (err == ENOENT) return std::nullopt;
    throw error_for_path(std::string(proc_path.view()), err);
  }
  const std::string_view link = reader.link;
  // stat follows the magic link to the open object itself, as fstat in the target would.
  struct stat st {};
  if (::stat(fd_path, &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    st = {};  // e.g. a stale network file: the link text still classifies most kinds
  }

  HandleEntry entry = handle_entry_in(reader.out);
  entry.fd = fd;
  entry.kind = classify_fd(link, st.st_mode);
  entry.type_name = fd_type_name(entry.kind);

  const bool want_basic = reader.flags & capture::kHandleBasicInformation;
  const bool want_specific = reader.flags & capture::kHandleTypeSpecificInformation;
  std::string_view fdinfo;
  FdInfoBasic basic;
  if (want_basic || want_specific) {
    const ProcPath fdinfo_path(reader.pid, "fdinfo", fd);
    if (int err = reader.fdinfo.read(fdinfo_path.c_str()); err != 0) {
      if (err == ENOENT) return std::nullopt;
      throw error_for_path(std::string(fdinfo_path.view()), err);
    }
    fdinfo = reader.fdinfo.view();
    basic = parse_fdinfo_basic(fdinfo);
  }

  if (reader.flags & capture::kHandleNameInformation) {
    entry.has_name = true;
    entry.name = link;
  }
  if (want_basic) {
    entry.has_basic = true;
    entry.open_flags = basic.flags;
    entry.position = basic.position;
    entry.mount_id = basic.mount_id;
    entry.inode = basic.inode != 0 ? basic.inode : static_cast<uint64_t>(st.st_ino);
    entry.mode = st.st_mode;
    entry.granted_access = granted_access_of(basic.flags);
  }
  if (want_specific) {
    entry.type_specific = type_specific_info(reader, entry, fd_path, link, st, fdinfo, basic);
    entry.has_type_specific = !std::holds_alternative<std::monostate>(entry.type_specific);
  }
  entry.capture_time_unix_ns = now_unix_ns();
  return entry;
}

bool process_exists(pid_t pid) {
  struct stat st {};
  return ::stat(ProcPath(pid, "stat").c_str(), &st) == 0;
}

}  // namespace

std::pmr::vector<HandleEntry> read_handles(pid_t pid, CaptureFlags flags,
                                           std::pmr::memory_resource* out,
                                           std::pmr::memory_resource* scratch) {
  std::pmr::vector<HandleEntry> handles(out);
  // The other handle flags refine kHandles; without it nothing was asked for.
  if (!(flags & capture::kHandles)) return handles;
  const ProcPath fd_dir(pid, "fd");
  std::pmr::vector<int> fds(scratch);
  if (int err = list_numeric_entries(fd_dir.c_str(), fds); err != 0) {
    throw error_for_path(std::string(fd_dir.view()), err);
  }
  // One allocation from `out`, not a doubling series the arena would never give back.
  handles.reserve(fds.size());
  HandleReader reader{.pid = pid, .flags = flags, .out = out, .scratch = scratch};
  for (int fd : fds) {
    if (auto entry = read_handle(reader, fd)) handles.push_back(std::move(*entry));
  }
  // Every fd of an exiting process vanishes at once; report that as the process being gone
  // rather than as a process with no open files.
  if (!process_exists(pid)) {
    throw Error(Errc::no_such_process,
                fmt::format("process {} exited while its fds were read", pid), ESRCH);
  }
  return handles;
}

}  // namespace snapdump::os
