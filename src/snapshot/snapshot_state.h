// What a Snapshot handle points at: the immutable capture plus the live resources (the clone,
// held threads, the tracer thread that owns them).
#pragma once

#include <memory>
#include <memory_resource>
#include <optional>
#include <vector>

#include "linux/ptrace_thread.h"
#include "linux/tracer_thread.h"
#include "linux/va_clone.h"
#include "linux/vm_arena.h"
#include "snapdump/snapshot.h"

namespace snapdump::detail {

struct SnapshotState {
  // kCreateUseVmAllocations: everything the snapshot holds lives here, not on the heap.
  // Declared first so it outlives every container that points into it.
  std::optional<os::VmArena> arena;
  bool with_arena;  // initialized right after `arena`, by making it (see the constructor)
  std::pmr::memory_resource* memory() const {
    return arena ? static_cast<std::pmr::memory_resource*>(const_cast<os::VmArena*>(&*arena))
                 : std::pmr::new_delete_resource();
  }

  pid_t pid = 0;
  CaptureFlags flags = 0;
  ContextFlags context_flags = 0;
  MemoryMode mode = MemoryMode::auxiliary_pages;
  ProcessInfo process;
  std::pmr::vector<ThreadEntry> threads;
  std::pmr::vector<Region> regions;  // always read, with module identities; exposed only with kVaSpace
  // What regions() shows with kVaSpace but without kVaSpaceSectionInformation: the same
  // regions without their ELF identities (empty otherwise).
  std::pmr::vector<Region> regions_without_sections;
  std::pmr::vector<HandleEntry> handles;
  std::pmr::vector<AuxiliaryPage> aux_pages;  // sorted by address, not overlapping
  PerformanceCounters perf;
  uint64_t clone_created_ns = 0;  // CLOCK_MONOTONIC

  // Live resources, released on the tracer thread that owns them.
  std::optional<os::TracerThread> tracer;
  std::optional<os::VaClone> clone;
  int clone_mem_fd = -1;  // /proc/CLONE/mem: how the clone is read (see read_mem_file)
  std::pmr::vector<os::TracedThread> held;

  // Every container is born with memory(): a pmr container keeps the allocator it was made
  // with, and assigning one from another resource would copy into its own.
  explicit SnapshotState(bool vm_allocations);
  SnapshotState(const SnapshotState&) = delete;
  SnapshotState& operator=(const SnapshotState&) = delete;
  ~SnapshotState();
};

}  // namespace snapdump::detail
