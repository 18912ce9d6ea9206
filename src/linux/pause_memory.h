// Memory for what the tracer writes while the target is stopped: the thread entries, their
// registers, the lists of threads and the pages an auxiliary-pages pause copies.
//
// Why not just the heap: in this project's KVM guests the kernel's first write into a page of a
// process costs 7 to 20 us, and 1 us after, whether or not the page was already faulted in or
// written from user space (measured with process_vm_readv and read(2) into MAP_POPULATE'd
// memory, docs/stacks.md). A pause of 16 threads wrote some 30 fresh pages (thread entries,
// registers, 100 KiB of stacks) and spent half of its 1.3 ms there. prepare() maps the memory
// the pause will need, populated, and has the kernel write every page of it once, all before the
// first thread stops; allocations are then carved from it. What does not fit, or anything
// allocated before prepare(), comes from the upstream resource, as before.
//
// Not std::pmr::monotonic_buffer_resource: that one takes its buffer when it is built, and the
// pause's containers are built (with their resource) before the thread count that sizes the
// buffer is known; and it would keep upstream blocks until its end instead of giving each back.
#pragma once

#include <cstddef>
#include <memory_resource>

namespace snapdump::os {

class PauseMemory final : public std::pmr::memory_resource {
 public:
  explicit PauseMemory(std::pmr::memory_resource* upstream) : upstream_(upstream) {}
  ~PauseMemory() override;
  PauseMemory(const PauseMemory&) = delete;
  PauseMemory& operator=(const PauseMemory&) = delete;

  // Maps `bytes` (rounded up to pages) and makes them ready. Once; a failure is not an error:
  // allocations then come from upstream. Returns the bytes made ready.
  size_t prepare(size_t bytes);
  size_t prepared() const { return size_; }

 private:
  void* do_allocate(size_t bytes, size_t alignment) override;
  void do_deallocate(void* p, size_t bytes, size_t alignment) override;
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
  bool owns(const void* p) const;

  std::pmr::memory_resource* upstream_;
  char* base_ = nullptr;
  char* next_ = nullptr;
  size_t size_ = 0;
};

}  // namespace snapdump::os
