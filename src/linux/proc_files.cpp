#include "linux/proc_files.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace snapdump::os {

ProcPath::ProcPath(pid_t pid, const char* name) noexcept {
  std::snprintf(text_, sizeof text_, "/proc/%d/%s", static_cast<int>(pid), name);
}

ProcPath::ProcPath(pid_t pid, pid_t tid, const char* name) noexcept {
  std::snprintf(text_, sizeof text_, "/proc/%d/task/%d/%s", static_cast<int>(pid), static_cast<int>(tid), name);
}

ProcPath::ProcPath(pid_t pid, const char* directory, int fd) noexcept {
  std::snprintf(text_, sizeof text_, "/proc/%d/%s/%d", static_cast<int>(pid), directory, fd);
}

int read_file(const char* path, std::pmr::string& out) noexcept {
  out.clear();
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  try {
    // Read straight into the string (no bounce buffer), first into all the room an earlier
    // file left, then doubling: a reused string grows to the largest file, not their sum.
    size_t used = 0;
    out.resize(out.capacity() < 4096 ? 4096 : out.capacity());
    for (;;) {
      if (used == out.size()) out.resize(out.size() * 2);
      ssize_t n = ::read(fd, out.data() + used, out.size() - used);
      if (n < 0) {
        if (errno == EINTR) continue;
        err = errno;
        break;
      }
      if (n == 0) break;
      used += static_cast<size_t>(n);
    }
    out.resize(used);
  } catch (...) {
    err = ENOMEM;  // the resource is exhausted (an arena never throws anything else here)
  }
  ::close(fd);
  if (err != 0) out.clear();
  return err;
}

int read_file(const char* path, char* buffer, size_t capacity, size_t& length) noexcept {
  length = 0;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = 0;
  for (;;) {
    if (length == capacity) {
      // Full: one more byte would mean the file is larger than the caller allowed for.
      char probe;
      ssize_t n = ::read(fd, &probe, 1);
      if (n > 0) err = EFBIG;
      break;
    }
    ssize_t n = ::read(fd, buffer + length, capacity - length);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    length += static_cast<size_t>(n);
  }
  ::close(fd);
  return err;
}

int read_link(const char* path, std::pmr::string& out) noexcept {
  try {
    out.resize(PATH_MAX);
    for (;;) {
      ssize_t n = ::readlink(path, out.data(), out.size());
      if (n < 0) {
        int err = errno;
        out.clear();
        return err;
      }
      if (static_cast<size_t>(n) < out.size()) {
        out.resize(static_cast<size_t>(n));
        return 0;
      }
      // Truncated: links to deep paths can exceed PATH_MAX, so grow and retry.
      out.resize(out.size() * 2);
    }
  } catch (...) {
    out.clear();
    return ENOMEM;
  }
}

}  // namespace snapdump::os
