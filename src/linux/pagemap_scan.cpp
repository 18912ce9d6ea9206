#include "linux/pagemap_scan.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace snapdump::os {
namespace {

// The PAGEMAP_SCAN ABI of Linux 6.7 (include/uapi/linux/fs.h), spelled out here because the
// build machine's kernel headers may predate it. The kernel checks `size`, so a kernel with a
// different structure refuses rather than misreads.
constexpr uint64_t kPageIsPresent = 1u << 3;
constexpr uint64_t kPageIsSwapped = 1u << 4;

struct PageRegion {
  uint64_t start, end, categories;
};

struct PmScanArg {
  uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
  uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);

}  // namespace

std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated_ranges(pid_t pid, uint64_t start, uint64_t end) {
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/pagemap", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::vector<std::pair<uint64_t, uint64_t>> out;
  PageRegion regions[256];
  uint64_t at = start;
  while (at < end) {
    PmScanArg arg{};
    arg.size = sizeof arg;
    arg.start = at;
    arg.end = end;
    arg.vec = reinterpret_cast<uint64_t>(regions);
    arg.vec_len = sizeof regions / sizeof regions[0];
    arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped;
    arg.return_mask = kPageIsPresent | kPageIsSwapped;
    int n = ::ioctl(fd, kPagemapScan, &arg);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    for (int i = 0; i < n; ++i) {
      // Present and swapped runs come as separate regions; the dump wants their union.
      if (!out.empty() && out.back().second == regions[i].start) {
        out.back().second = regions[i].end;
      } else {
        out.emplace_back(regions[i].start, regions[i].end);
      }
    }
    if (arg.walk_end <= at) break;  // no progress: do not spin
    at = arg.walk_end;
  }
  ::close(fd);
  return out;
}

}  // namespace snapdump::os
