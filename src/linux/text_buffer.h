// One growing buffer that many /proc files are read into in turn. For capture paths that must
// not touch the heap (kCreateUseVmAllocations): the buffer lives in the caller's scratch
// resource, a bump arena that never frees, so reusing one buffer keeps the arena's growth at
// the size of the largest file instead of the sum of all files.
#pragma once

#include <memory_resource>
#include <string>
#include <string_view>

namespace snapdump::os {

class TextBuffer {
 public:
  explicit TextBuffer(std::pmr::memory_resource* scratch) : text_(scratch) {}

  // Replaces the contents with the whole file at `path`. 0, or the errno of the failed open or
  // read (ENOENT when a process or fd vanished); the contents are then unspecified.
  int read(const char* path);

  std::string_view view() const noexcept { return text_; }

 private:
  std::pmr::string text_;
};

}  // namespace snapdump::os
