// Reading /proc files without the heap, for a capture with kCreateUseVmAllocations
// (PSS_CREATE_USE_VM_ALLOCATIONS: no heap use in the capture path). Paths are formatted into
// fixed buffers and file contents go to a caller's std::pmr string or stack buffer, so the
// only memory touched is what the caller's resource hands out.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory_resource>
#include <string>
#include <string_view>

namespace snapdump::os {

// "/proc/PID/NAME", "/proc/PID/task/TID/NAME" or "/proc/PID/DIR/FD" (DIR: fd, fdinfo) in a
// fixed buffer (names are short literals).
class ProcPath {
 public:
  ProcPath(pid_t pid, const char* name) noexcept;
  ProcPath(pid_t pid, pid_t tid, const char* name) noexcept;
  ProcPath(pid_t pid, const char* directory, int fd) noexcept;
  const char* c_str() const noexcept { return text_; }
  std::string_view view() const noexcept { return text_; }

 private:
  char text_[96];
};

// The whole file into `out` (replacing its contents, in `out`'s own allocator): 0, or the
// errno of the failed open or read. procfs files report no size, so this reads until EOF.
int read_file(const char* path, std::pmr::string& out) noexcept;

// Up to `capacity` bytes of the file into `buffer`; `length` gets the count. 0, or an errno
// (EFBIG when the file holds more than fits: the caller's bound was wrong for this file).
int read_file(const char* path, char* buffer, size_t capacity, size_t& length) noexcept;

// The target of a symbolic link into `out`: 0 or the errno.
int read_link(const char* path, std::pmr::string& out) noexcept;

}  // namespace snapdump::os
