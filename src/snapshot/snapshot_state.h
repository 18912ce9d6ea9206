// What a Snapshot handle points at: the immutable capture plus the live resources (the tracer
// that holds the clone or the held threads).
#pragma once

#include <memory>
#include <memory_resource>
#include <mutex>
#include <utility>
#include <optional>
#include <vector>

#include "linux/tracer_client.h"
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
  // The target's pause, CLOCK_MONOTONIC: end 0 while a hold lasts.
  uint64_t pause_start_ns = 0, pause_end_ns = 0;

  // Live resources: the tracer holds the clone (and its helper, when it is not an orphan) or
  // the held threads, and releases them when it is closed.
  // Mutable: asking the tracer how things stand (check_intact) does not change the snapshot.
  mutable std::optional<os::Tracer> tracer;
  pid_t clone_pid = 0;
  bool clone_orphaned = false;
  int clone_mem_fd = -1;  // /proc/CLONE/mem: how the clone is read (see read_mem_file)
  bool released = false;  // release_target() was called

  // Ranges of the clone that release_memory() let go of: reads there fail, never give zeros.
  // Sorted and merged. `pending_release` waits to be sent to the tracer in one batch.
  mutable std::mutex release_mutex;
  mutable std::pmr::vector<std::pair<uint64_t, uint64_t>> released_ranges;
  mutable std::pmr::vector<std::pair<uint64_t, uint64_t>> pending_release;
  mutable uint64_t pending_release_bytes = 0;
  // The first released byte at or after `address` (UINT64_MAX if none), and whether `address`
  // itself is released. Takes release_mutex.
  std::pair<bool, uint64_t> released_at(uint64_t address) const;

  // Lets held threads go and kills the clone, recording when the pause ended. Idempotent.
  void release() noexcept;

  // Every container is born with memory(): a pmr container keeps the allocator it was made
  // with, and assigning one from another resource would copy into its own.
  explicit SnapshotState(bool vm_allocations);
  SnapshotState(const SnapshotState&) = delete;
  SnapshotState& operator=(const SnapshotState&) = delete;
  ~SnapshotState();
};

}  // namespace snapdump::detail
