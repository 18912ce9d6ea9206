#include "linux/process_memory.h"

#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace snapdump::os {

size_t read_process_memory(pid_t pid, uint64_t address, std::span<uint8_t> out, int* err) {
  if (err) *err = 0;
  size_t done = 0;
  while (done < out.size()) {
    // process_vm_readv stops at the first unreadable page of a range and returns a short
    // count; reading page by page after a short read finds exactly where it stopped.
    struct iovec local{out.data() + done, out.size() - done};
    struct iovec remote{reinterpret_cast<void*>(address + done), out.size() - done};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    int e = n < 0 ? errno : EFAULT;
    // Some kernels do not split an iovec element: retry the first page alone so a readable
    // prefix of a partly unreadable range is still returned.
    size_t page = 4096 - ((address + done) & 4095);
    if (e == EFAULT && out.size() - done > page) {
      struct iovec l1{out.data() + done, page};
      struct iovec r1{reinterpret_cast<void*>(address + done), page};
      if (process_vm_readv(pid, &l1, 1, &r1, 1, 0) == static_cast<ssize_t>(page)) {
        done += page;
        continue;
      }
    }
    if (err) *err = e;
    break;
  }
  return done;
}

void read_process_ranges(pid_t pid, std::span<RangeRead> ranges) {
  constexpr size_t kBatch = 64;  // far below IOV_MAX; the iovecs stay on the stack
  size_t i = 0;
  while (i < ranges.size()) {
    struct iovec local[kBatch], remote[kBatch];
    size_t n = std::min(kBatch, ranges.size() - i);
    for (size_t k = 0; k < n; ++k) {
      local[k] = {ranges[i + k].out.data(), ranges[i + k].out.size()};
      remote[k] = {reinterpret_cast<void*>(ranges[i + k].address), ranges[i + k].out.size()};
    }
    ssize_t r = process_vm_readv(pid, local, n, remote, n, 0);
    if (r < 0 && errno == EINTR) continue;
    // The kernel reads the ranges in order and stops at the first page it cannot read: the
    // ranges before that are whole, the one it stopped in has a prefix (perhaps empty).
    size_t done = r > 0 ? static_cast<size_t>(r) : 0;
    size_t k = 0;
    for (; k < n && done >= ranges[i + k].out.size(); ++k) {
      ranges[i + k].got = ranges[i + k].out.size();
      done -= ranges[i + k].out.size();
    }
    i += k;
    if (k == n) continue;
    RangeRead& partial = ranges[i++];
    partial.got = done + read_process_memory(pid, partial.address + done, partial.out.subspan(done));
  }
}

size_t read_mem_file(int mem_fd, uint64_t address, std::span<uint8_t> out, int* err) {
  if (err) *err = 0;
  size_t done = 0;
  while (done < out.size()) {
    // Offsets are addresses; above 2^63 they are negative as off_t, and no user mapping is there.
    uint64_t at = address + done;
    if (at > static_cast<uint64_t>(INT64_MAX)) {
      if (err) *err = EFAULT;
      break;
    }
    ssize_t n = pread(mem_fd, out.data() + done, out.size() - done, static_cast<off_t>(at));
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // A read that starts on an unreadable page fails whole (EIO); one that runs into one stops
    // short, so what was readable before it has been returned already.
    if (err) *err = n < 0 ? (errno == EIO ? EFAULT : errno) : EFAULT;
    break;
  }
  return done;
}

}  // namespace snapdump::os
