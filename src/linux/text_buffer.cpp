// procfs files report no useful size, so the file is read until EOF straight into the buffer's
// spare room, growing it only when a read fills it.
#include "linux/text_buffer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace snapdump::os {

int TextBuffer::read(const char* path) {
  text_.clear();
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t used = 0;
  int err = 0;
  while (true) {
    // First all the room an earlier file left, then doubling: amortized like append,
    // without a bounce buffer.
    if (used == text_.size()) {
      text_.resize(std::max({size_t{4096}, text_.capacity(), text_.size() * 2}));
    }
    ssize_t n = ::read(fd, text_.data() + used, text_.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  text_.resize(used);
  return err;
}

}  // namespace snapdump::os
