// What a dump will hold, decided before any byte is written: the threads and modules with
// their write flags, the memory ranges of the MemoryList and the regions of a full-memory pass.
// Building the plan is where the steering callbacks are asked (see dump_callbacks.h for the
// order); the stream writers then only follow it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapdump/dump_callbacks.h"
#include "snapdump/minidump.h"
#include "writer/range_set.h"

namespace snapdump::writer {

// The callbacks of a dump with the bookkeeping the documents ask for: a null pointer becomes
// callbacks that change nothing, and cancel callbacks stop once CheckCancel is answered FALSE.
class Steering {
 public:
  explicit Steering(DumpCallbacks* callbacks) : cb_(callbacks ? *callbacks : defaults_) {}
  DumpCallbacks& operator*() const { return cb_; }
  DumpCallbacks* operator->() const { return &cb_; }
  // Asks CancelCallback (while it wants to be asked); throws Error(cancelled) on a cancel.
  void check_cancel(const char* where);

 private:
  DumpCallbacks defaults_;
  DumpCallbacks& cb_;
  bool ask_cancel_ = true;
};

struct PlannedThread {
  const ThreadEntry* thread = nullptr;
  ThreadWriteFlags flags = 0;
};

struct PlannedModule {
  const Region* region = nullptr;  // the mapping at the module's base, with its ElfIdentity
  ModuleWriteFlags flags = 0;
  std::string name;                // the path as written (only the file name with FilterModulePaths)
  std::vector<uint8_t> cv_record;  // BpEL + build-id; empty without one
};

struct DumpPlan {
  uint32_t secondary_flags = 0;
  bool vm_callbacks = false;  // VmStartCallback accepted the Vm* callbacks
  std::vector<PlannedThread> threads;
  std::vector<PlannedModule> modules;
  RangeSet memory;  // the MemoryList, after MemoryCallback and RemoveMemoryCallback
  // Regions as the dump describes them: the snapshot's, or what VmQueryCallback answered.
  std::vector<VmRegionInfo> regions;
};

// Asks the callbacks of stages 1 to 4 and selects memory per the dump type's flags.
DumpPlan plan_dump(const Snapshot& snapshot, const DumpOptions& options, Steering& steering);

// The default THREAD_WRITE_FLAGS and MODULE_WRITE_FLAGS of a dump type.
ThreadWriteFlags default_thread_flags(DumpType type);
ModuleWriteFlags default_module_flags(DumpType type);

// MINIDUMP_MEMORY_INFO of a snapshot region (PAGE_* protection, MEM_* type).
VmRegionInfo region_info(const Region& region, uint64_t allocation_base);

}  // namespace snapdump::writer
