// What the benchmarks share: their list arguments ("16,64"), medians, and the floor every
// memory dumper is compared with (copy_ranges) next to gdb's gcore.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace snapdump::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  std::string text(s);
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    out.push_back(std::stoi(text.substr(at, comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Range {
  uint64_t start, end;
};

// The floor of any dumper: `ranges` of process `pid` read with process_vm_readv and written to
// `path` (created), then fsync'd. With `direct` the file is written with O_DIRECT, as snapdump
// writes a dump's memory to a path, so the page cache is out of the way. Returns the bytes copied;
// a range stops at its first failed read. Throws std::runtime_error when `path` cannot be made.
inline uint64_t copy_ranges(pid_t pid, const std::vector<Range>& ranges, const std::string& path, bool direct) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0), 0600);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  // The writers' chunk size, aligned for O_DIRECT.
  constexpr size_t kChunk = 4 << 20;
  std::unique_ptr<uint8_t, decltype(&std::free)> buffer(static_cast<uint8_t*>(std::aligned_alloc(4096, kChunk)), &std::free);
  std::span<uint8_t> chunk(buffer.get(), kChunk);
  uint64_t total = 0;
  for (const Range& r : ranges) {
    for (uint64_t at = r.start; at < r.end;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), r.end - at));
      iovec local{chunk.data(), want}, remote{reinterpret_cast<void*>(at), want};
      ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
      if (n <= 0) break;
      // A short read leaves the rest of the file unaligned: through the page cache then.
      if (direct && n % 4096 != 0) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
        direct = false;
      }
      if (write(fd, chunk.data(), static_cast<size_t>(n)) != n) break;
      total += static_cast<uint64_t>(n);
      at += static_cast<uint64_t>(n);
    }
  }
  fsync(fd);
  close(fd);
  return total;
}

// gdb's gcore of `pid` into `path`: seconds, for all of which gdb holds the target stopped;
// -1 when gdb failed.
inline double gcore_seconds(pid_t pid, const std::string& path) {
  auto start = Clock::now();
  std::string cmd = fmt::format("gdb -batch -nx -p {} -ex 'gcore {}' >/dev/null 2>&1", pid, path);
  if (std::system(cmd.c_str()) != 0) return -1;
  return seconds_since(start);
}

}  // namespace snapdump::bench
