// Memory for a capture that does not come from the C++ heap: anonymous mappings handed out by a
// bump allocator. PSS_CREATE_USE_VM_ALLOCATIONS (kCreateUseVmAllocations) asks for this: a
// snapshot taken from a crash handler must not touch a heap that may be corrupt. It is the
// Linux analog of VirtualAlloc-backed snapshot buffers (Breakpad's PageAllocator has the same
// shape).
//
// Not thread-safe: the capture fills it on the tracer thread, and afterwards the snapshot only
// reads what it holds. Nothing is returned to the system until the arena is destroyed, which
// suits a snapshot: it is built once, read, then freed whole.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace snapdump::os {

class VmArena final : public std::pmr::memory_resource {
 public:
  VmArena() = default;
  ~VmArena() override;
  VmArena(const VmArena&) = delete;
  VmArena& operator=(const VmArena&) = delete;

  // Bytes of address space mapped so far (pages are only backed once touched).
  size_t mapped_bytes() const { return mapped_; }
  // True if [p, p + 1) lies in one of this arena's mappings.
  bool owns(const void* p) const;

 private:
  struct Chunk {
    Chunk* previous;  // chunks form a list threaded through their own first bytes
    size_t size;
  };

  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void*, size_t, size_t) override {}  // freed with the arena
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  Chunk* last_ = nullptr;
  char* next_ = nullptr;  // first free byte of the last chunk
  char* end_ = nullptr;
  size_t mapped_ = 0;
};

void* map_pages(size_t bytes);  // whole pages of their own; throws std::bad_alloc
void unmap_pages(void* p, size_t bytes) noexcept;

// A standard allocator whose every allocation is its own anonymous mapping, released with
// munmap: for the few fixed-size objects of a kCreateUseVmAllocations capture that outlive or
// own an arena (the snapshot's shared state and its control block).
template <class T>
struct MmapAllocator {
  using value_type = T;
  MmapAllocator() = default;
  template <class U>
  MmapAllocator(const MmapAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(map_pages(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { unmap_pages(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const MmapAllocator<U>&) const noexcept { return true; }
};
}  // namespace snapdump::os
