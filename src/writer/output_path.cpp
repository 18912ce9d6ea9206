// DumpOutput::to_path: what a path names decides what snapdump does with it (the table in
// include/snapdump/dump_output.h). Everything that can fail is tried here, before the capture:
// the directory, the right to create in it, the file system's mode (read-only), the existing
// file, a FIFO's reader, a socket's listener.
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "linux/proc_files.h"
#include "writer/file_error.h"
#include "writer/output.h"

namespace snapdump {
namespace {

using writer::throw_file_error;

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
  int release() {
    int f = fd;
    fd = -1;
    return f;
  }
};

std::string dir_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The kernel's fs.protected_symlinks rule, applied whatever the sysctl says: a symbolic link in
// a sticky, world-writable directory (/tmp) is followed only if it belongs to the one following
// it or to the directory's owner. Without it, anyone could plant /tmp/x.dmp -> /etc/cron.d/job
// and have root's dump land there. (open() applies it itself; a dangling link is followed here.)
void check_link_is_safe(const std::string& user_path, const std::string& link, const struct stat& link_st) {
  struct stat dir {};
  if (stat(dir_of(link).c_str(), &dir) != 0) return;
  bool sticky_shared = (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH);
  if (sticky_shared && link_st.st_uid != geteuid() && link_st.st_uid != dir.st_uid) {
    throw Error(Errc::permission_denied,
                fmt::format("{}: the symbolic link {} is in a sticky world-writable directory and belongs to "
                            "another user (uid {}); snapdump does not follow it (fs.protected_symlinks)",
                            user_path, link, link_st.st_uid));
  }
}

// Follows the symbolic links at the end of `path` one by one (the directories on the way are
// the kernel's to follow); returns the path of what the last one names, which may not exist.
std::string follow_links(const std::string& path) {
  std::string current = path;
  for (int hops = 0;; ++hops) {
    struct stat st {};
    if (lstat(current.c_str(), &st) != 0) {
      if (errno == ENOENT) return current;
      throw_file_error(fmt::format("cannot follow {} to {}", path, current), errno);
    }
    if (!S_ISLNK(st.st_mode)) return current;
    if (hops == 40) throw_file_error(fmt::format("cannot follow {}", path), ELOOP);
    check_link_is_safe(path, current, st);
    char target[PATH_MAX];
    ssize_t n = readlink(current.c_str(), target, sizeof target - 1);
    if (n < 0) throw_file_error(fmt::format("cannot follow {} at {}", path, current), errno);
    target[n] = '\0';
    std::string next(target, static_cast<size_t>(n));
    current = next[0] == '/' ? next : (dir_of(current) == "/" ? "/" : dir_of(current) + "/") + next;
  }
}

// How messages name the destination: the user's path, and where it leads if that differs.
std::string subject_of(const std::string& path, const std::string& final_path) {
  return final_path == path ? path : fmt::format("{} (a symbolic link to {})", path, final_path);
}

std::unique_ptr<writer::PendingFile> pending_file(const std::string& user_path, const std::string& final_path,
                                                  bool replace) {
  std::string subject = subject_of(user_path, final_path);
  std::string name = base_of(final_path);
  if (name.empty() || name == "." || name == "..") {
    throw Error(Errc::invalid_argument, fmt::format("{} names a directory, not a file to write the dump to", subject));
  }
  std::string dir = dir_of(final_path);
  Fd dir_fd(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      throw Error(Errc::invalid_argument, fmt::format("cannot create {}: the directory {} does not exist", subject, dir), err);
    }
    if (err == ENOTDIR) {
      throw Error(Errc::invalid_argument, fmt::format("cannot create {}: {} is not a directory", subject, dir), err);
    }
    throw_file_error(fmt::format("cannot create {}: cannot open the directory {}", subject, dir), err);
  }
  if (replace) {
    // In a sticky directory only a file's owner, the directory's owner or root may rename over
    // it: found out now rather than after the whole dump is written.
    struct stat d {}, f {};
    if (fstat(dir_fd.fd, &d) == 0 && fstatat(dir_fd.fd, name.c_str(), &f, AT_SYMLINK_NOFOLLOW) == 0 &&
        (d.st_mode & S_ISVTX) && geteuid() != 0 && f.st_uid != geteuid() && d.st_uid != geteuid()) {
      throw Error(Errc::permission_denied,
                  fmt::format("cannot replace {}: it belongs to another user (uid {}) in the sticky directory {}",
                              subject, f.st_uid, dir),
                  EPERM);
    }
  }
  try {
    return std::make_unique<writer::PendingFile>(dir_fd.release(), dir, name, replace, subject);
  } catch (const Error& e) {
    // The messages a user most needs, in words: "Permission denied" alone does not say where.
    if (e.sys_errno() == EROFS) {
      throw Error(e.code(), fmt::format("cannot create {}: {} is on a read-only file system", subject, dir), EROFS);
    }
    if (e.sys_errno() == EACCES || e.sys_errno() == EPERM) {
      throw Error(e.code(), fmt::format("cannot create {}: no permission to create files in {}", subject, dir),
                  e.sys_errno());
    }
    throw;
  }
}

// A UNIX socket's path: a stream connection (SOCK_STREAM, else SOCK_SEQPACKET).
int connect_socket(const std::string& subject, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // A path longer than sun_path reaches the socket through an O_PATH descriptor of it.
  Fd by_fd;
  std::string name = path;
  if (name.size() >= sizeof addr.sun_path) {
    by_fd.fd = open(path.c_str(), O_PATH | O_CLOEXEC);
    if (by_fd.fd < 0) throw_file_error(fmt::format("cannot connect to the socket {}", subject), errno);
    name = std::string(os::ProcPath(getpid(), "fd", by_fd.fd).view());
  }
  std::memcpy(addr.sun_path, name.c_str(), name.size() + 1);
  int err = 0;
  for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
    Fd s(socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    if (s.fd < 0) throw_file_error("cannot make a socket", errno);
    if (connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return s.release();
    err = errno;
    if (err != EPROTOTYPE) break;
  }
  if (err == EPROTOTYPE) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is a datagram socket: a dump needs a stream connection (SOCK_STREAM or SOCK_SEQPACKET)",
                            subject),
                err);
  }
  if (err == ECONNREFUSED) {
    throw Error(Errc::io_error, fmt::format("{} is a socket nothing listens on (connection refused)", subject), err);
  }
  throw_file_error(fmt::format("cannot connect to the socket {}", subject), err);
}

}  // namespace

DumpOutput DumpOutput::to_path(const std::string& path, const OutputOptions& options) {
  if (path.empty()) throw Error(Errc::invalid_argument, "an empty output path");
  auto impl = std::make_unique<Impl>();
  impl->name = path;
  // What the path leads to, the kernel following every link (and applying its own link rules).
  Fd what(open(path.c_str(), O_PATH | O_CLOEXEC));
  if (what.fd < 0) {
    int err = errno;
    if (err != ENOENT) {
      if (err == ENOTDIR) {
        throw Error(Errc::invalid_argument, fmt::format("{}: a directory on the way is a file", path), err);
      }
      if (err == EACCES) {
        throw Error(Errc::permission_denied,
                    fmt::format("cannot reach {}: no permission to search a directory on the way", path), err);
      }
      throw_file_error(fmt::format("cannot reach {}", path), err);
    }
    // Nothing there, or a link to nothing: a new file where the last link points.
    impl->final_path = follow_links(path);
    impl->kind = Kind::new_file;
    impl->file = pending_file(path, impl->final_path, false);
    return DumpOutput(std::move(impl));
  }
  struct stat st {};
  if (fstat(what.fd, &st) != 0) throw_file_error(fmt::format("cannot look at {}", path), errno);
  impl->final_path = path;
  std::string subject = path;
  if (S_ISREG(st.st_mode)) {
    impl->final_path = follow_links(path);
    subject = subject_of(path, impl->final_path);
    struct stat final_st {};
    // The link walk must end at the file the kernel found: a /proc magic link to a deleted or
    // unreachable file would not.
    if (stat(impl->final_path.c_str(), &final_st) != 0 || final_st.st_dev != st.st_dev || final_st.st_ino != st.st_ino) {
      throw Error(Errc::invalid_argument,
                  fmt::format("{} leads to a regular file that has no path snapdump can replace it at", path));
    }
    if (!options.replace_existing) {
      throw Error(Errc::already_exists,
                  fmt::format("{} already exists ({} bytes); it is kept", subject, st.st_size),
                  EEXIST);
    }
    impl->kind = Kind::replaced_file;
    impl->file = pending_file(path, impl->final_path, true);
    return DumpOutput(std::move(impl));
  }
  impl->kind = Kind::stream;
  impl->owns_fd = true;
  if (S_ISFIFO(st.st_mode)) {
    // Waits for a reader, as `> fifo` in a shell does; nothing is created or replaced.
    impl->fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (impl->fd < 0) throw_file_error(fmt::format("cannot open the FIFO {} for writing", path), errno);
  } else if (S_ISCHR(st.st_mode)) {
    impl->fd = open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (impl->fd < 0) throw_file_error(fmt::format("cannot open the character device {} for writing", path), errno);
    if (isatty(impl->fd)) {
      close(impl->fd);
      impl->fd = -1;
      throw Error(Errc::invalid_argument,
                  fmt::format("{} is a terminal: a minidump is binary; write it to a file or pipe it on "
                              "(e.g. | zstd > dump.dmp.zst)",
                              path));
    }
  } else if (S_ISSOCK(st.st_mode)) {
    impl->fd = connect_socket(path, path);
  } else if (S_ISDIR(st.st_mode)) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is a directory: name a file in it (e.g. {}/{}.dmp)", path,
                            path.back() == '/' ? path.substr(0, path.size() - 1) : path, "NAME"),
                EISDIR);
  } else if (S_ISBLK(st.st_mode)) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is a block device: snapdump writes a dump only to a new or regular file, a FIFO, "
                            "a character device or a socket, and never over a device",
                            path));
  } else {
    throw Error(Errc::invalid_argument, fmt::format("{} is neither a file, a FIFO, a device nor a socket", path));
  }
  return DumpOutput(std::move(impl));
}

}  // namespace snapdump
