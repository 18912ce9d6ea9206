// What a Snapshot handle points at: the immutable capture plus the live resources (the clone,
// held threads, the tracer thread that owns them).
#pragma once

#include <memory>
#include <vector>

#include "linux/ptrace_thread.h"
#include "linux/tracer_thread.h"
#include "linux/va_clone.h"
#include "snapdump/snapshot.h"

namespace snapdump::detail {

struct SnapshotState {
  pid_t pid = 0;
  CaptureFlags flags = 0;
  ContextFlags context_flags = 0;
  MemoryMode mode = MemoryMode::auxiliary_pages;
  ProcessInfo process;
  std::vector<ThreadEntry> threads;
  std::vector<Region> regions;           // always read; exposed only with kVaSpace
  std::vector<HandleEntry> handles;
  std::vector<AuxiliaryPage> aux_pages;  // sorted by address, not overlapping
  PerformanceCounters perf;
  uint64_t clone_created_ns = 0;  // CLOCK_MONOTONIC

  // Live resources, released on the tracer thread that owns them.
  std::unique_ptr<os::TracerThread> tracer;
  std::unique_ptr<os::VaClone> clone;
  std::vector<os::TracedThread> held;

  SnapshotState() = default;
  SnapshotState(const SnapshotState&) = delete;
  SnapshotState& operator=(const SnapshotState&) = delete;
  ~SnapshotState();
};

}  // namespace snapdump::detail
