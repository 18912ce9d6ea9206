#include "linux/vm_arena.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>

namespace snapdump::os {
namespace {
// Chunks are reserved with MAP_NORESERVE: a generous size costs address space, not memory,
// since only the pages written are ever backed.
constexpr size_t kMinChunk = size_t{4} << 20;
constexpr size_t kPage = 4096;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }
}  // namespace

VmArena::~VmArena() {
  while (last_ != nullptr) {
    Chunk* previous = last_->previous;
    munmap(last_, last_->size);
    last_ = previous;
  }
}

bool VmArena::owns(const void* p) const {
  auto at = reinterpret_cast<uintptr_t>(p);
  for (const Chunk* c = last_; c != nullptr; c = c->previous) {
    auto begin = reinterpret_cast<uintptr_t>(c);
    if (at >= begin && at < begin + c->size) return true;
  }
  return false;
}

void* VmArena::do_allocate(size_t bytes, size_t alignment) {
  if (bytes == 0) bytes = 1;
  auto aligned = [&](char* p) {
    return reinterpret_cast<char*>(round_up(reinterpret_cast<uintptr_t>(p), alignment));
  };
  if (next_ == nullptr || aligned(next_) + bytes > end_) {
    size_t size = round_up(std::max(kMinChunk, bytes + alignment + sizeof(Chunk)), kPage);
    void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    // std::bad_alloc, not Error: pmr containers report exhaustion that way, and building a
    // message here would use the heap this arena exists to avoid.
    if (mem == MAP_FAILED) throw std::bad_alloc();
    auto* chunk = static_cast<Chunk*>(mem);
    chunk->previous = last_;
    chunk->size = size;
    last_ = chunk;
    mapped_ += size;
    next_ = static_cast<char*>(mem) + sizeof(Chunk);
    end_ = static_cast<char*>(mem) + size;
  }
  char* p = aligned(next_);
  next_ = p + bytes;
  return p;
}

void* map_pages(size_t bytes) {
  void* mem = mmap(nullptr, round_up(std::max<size_t>(bytes, 1), kPage), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  return mem;
}

void unmap_pages(void* p, size_t bytes) noexcept { munmap(p, round_up(std::max<size_t>(bytes, 1), kPage)); }

}  // namespace snapdump::os
