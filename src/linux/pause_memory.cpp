#include "linux/pause_memory.h"

#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>

namespace snapdump::os {
namespace {
constexpr size_t kPage = 4096;
}  // namespace

PauseMemory::~PauseMemory() {
  if (base_ != nullptr) munmap(base_, size_);
}

size_t PauseMemory::prepare(size_t bytes) {
  if (base_ != nullptr || bytes == 0) return size_;
  bytes = (bytes + kPage - 1) / kPage * kPage;
  void* at = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (at == MAP_FAILED) return 0;
  // The kernel's write into each page, through process_vm_readv from this process to itself
  // (always permitted, no file needed): a zero page copied into every page, 64 per call.
  static const uint8_t zeros[kPage] = {};
  constexpr size_t kBatch = 64;
  iovec local[kBatch], remote[kBatch];
  for (size_t done = 0; done < bytes;) {
    size_t n = 0;
    for (; n < kBatch && done < bytes; ++n, done += kPage) {
      local[n] = {static_cast<char*>(at) + done, kPage};
      remote[n] = {const_cast<uint8_t*>(zeros), kPage};
    }
    (void)process_vm_readv(getpid(), local, n, remote, n, 0);  // a warm-up: failing costs time only
  }
  base_ = next_ = static_cast<char*>(at);
  size_ = bytes;
  return size_;
}

bool PauseMemory::owns(const void* p) const {
  auto at = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(base_);
  return base_ != nullptr && at >= base && at < base + size_;
}

void* PauseMemory::do_allocate(size_t bytes, size_t alignment) {
  if (base_ != nullptr) {
    auto at = (reinterpret_cast<uintptr_t>(next_) + alignment - 1) / alignment * alignment;
    auto end = reinterpret_cast<uintptr_t>(base_) + size_;
    if (at <= end && bytes <= end - at) {
      next_ = reinterpret_cast<char*>(at + bytes);
      return reinterpret_cast<void*>(at);
    }
  }
  return upstream_->allocate(bytes, alignment);
}

void PauseMemory::do_deallocate(void* p, size_t bytes, size_t alignment) {
  // Carved memory is given back with the mapping; the rest belongs to upstream.
  if (!owns(p)) upstream_->deallocate(p, bytes, alignment);
}

}  // namespace snapdump::os
