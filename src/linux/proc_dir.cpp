#include "linux/proc_dir.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "linux/text_scan.h"

namespace snapdump::os {

int list_numeric_entries(const char* dir, std::pmr::vector<int>& out) {
  out.clear();
  int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
  alignas(8) char buffer[8192];
  int err = 0;
  for (;;) {
    long n = ::syscall(SYS_getdents64, fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      unsigned short reclen;
      std::memcpy(&reclen, buffer + at + 16, sizeof reclen);
      auto number = text::parse_u64(std::string_view(buffer + at + 19));
      if (number && *number <= INT_MAX) out.push_back(static_cast<int>(*number));
      at += reclen;
    }
  }
  ::close(fd);
  std::sort(out.begin(), out.end());
  return err;
}

}  // namespace snapdump::os
