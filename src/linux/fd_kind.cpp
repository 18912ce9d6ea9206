// What kind of object a file descriptor refers to, and the names of those kinds.
#include <sys/stat.h>

#include <string_view>

#include "linux/fd_inspect.h"
#include "snapdump/snapshot_types.h"

namespace snapdump {

const char* to_string(FdKind kind) noexcept {
  switch (kind) {
    case FdKind::unknown: return "unknown";
    case FdKind::regular: return "regular";
    case FdKind::directory: return "directory";
    case FdKind::char_device: return "char_device";
    case FdKind::block_device: return "block_device";
    case FdKind::pipe: return "pipe";
    case FdKind::fifo: return "fifo";
    case FdKind::socket: return "socket";
    case FdKind::eventfd: return "eventfd";
    case FdKind::timerfd: return "timerfd";
    case FdKind::signalfd: return "signalfd";
    case FdKind::epoll: return "epoll";
    case FdKind::inotify: return "inotify";
    case FdKind::fanotify: return "fanotify";
    case FdKind::memfd: return "memfd";
    case FdKind::pidfd: return "pidfd";
    case FdKind::perf_event: return "perf_event";
    case FdKind::bpf: return "bpf";
    case FdKind::io_uring: return "io_uring";
    case FdKind::userfaultfd: return "userfaultfd";
    case FdKind::anon_inode: return "anon_inode";
  }
  return "unknown";
}

namespace os {
namespace {

FdKind classify_anon_inode(std::string_view name) noexcept {
  // The kernel names most anonymous inodes "[kind]" but a few without brackets ("inotify",
  // "bpf-map", "bpf_link"), so both spellings are accepted.
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  if (name == "eventfd") return FdKind::eventfd;
  if (name == "timerfd") return FdKind::timerfd;
  if (name == "signalfd") return FdKind::signalfd;
  if (name == "eventpoll") return FdKind::epoll;
  if (name == "inotify") return FdKind::inotify;
  if (name == "fanotify") return FdKind::fanotify;
  if (name == "pidfd") return FdKind::pidfd;
  if (name == "perf_event") return FdKind::perf_event;
  if (name.starts_with("bpf")) return FdKind::bpf;
  if (name == "io_uring") return FdKind::io_uring;
  if (name == "userfaultfd") return FdKind::userfaultfd;
  return FdKind::anon_inode;
}

}  // namespace

FdKind classify_fd(std::string_view link, uint32_t mode) noexcept {
  if (link.starts_with("pipe:[")) return FdKind::pipe;
  if (link.starts_with("socket:[")) return FdKind::socket;
  if (link.starts_with("anon_inode:")) return classify_anon_inode(link.substr(11));
  // Kernels with pidfs (6.9+) may name pidfds on their own file system.
  if (link.starts_with("pidfd:")) return FdKind::pidfd;
  // A memfd has no directory entry, so its name always carries the "(deleted)" mark; that
  // tells it from a real file called "/memfd:x".
  if (link.starts_with("/memfd:") && link.ends_with(" (deleted)")) return FdKind::memfd;
  switch (mode & S_IFMT) {
    case S_IFREG: return FdKind::regular;
    case S_IFDIR: return FdKind::directory;
    case S_IFIFO: return FdKind::fifo;
    case S_IFSOCK: return FdKind::socket;
    case S_IFCHR: return FdKind::char_device;
    case S_IFBLK: return FdKind::block_device;
    default: return FdKind::unknown;
  }
}

const char* fd_type_name(FdKind kind) noexcept {
  switch (kind) {
    case FdKind::unknown: return "Unknown";
    case FdKind::regular: return "File";
    case FdKind::directory: return "Directory";
    case FdKind::char_device: return "CharDevice";
    case FdKind::block_device: return "BlockDevice";
    case FdKind::pipe: return "Pipe";
    case FdKind::fifo: return "Fifo";
    case FdKind::socket: return "Socket";
    case FdKind::eventfd: return "EventFd";
    case FdKind::timerfd: return "TimerFd";
    case FdKind::signalfd: return "SignalFd";
    case FdKind::epoll: return "Epoll";
    case FdKind::inotify: return "Inotify";
    case FdKind::fanotify: return "Fanotify";
    case FdKind::memfd: return "MemFd";
    case FdKind::pidfd: return "PidFd";
    case FdKind::perf_event: return "PerfEvent";
    case FdKind::bpf: return "Bpf";
    case FdKind::io_uring: return "IoUring";
    case FdKind::userfaultfd: return "UserfaultFd";
    case FdKind::anon_inode: return "AnonInode";
  }
  return "Unknown";
}

}  // namespace os
}  // namespace snapdump
