// plan_dump: stages 1 to 4 of a dump (dump_callbacks.h): setup callbacks, the thread and module
// enumeration with IncludeThread/IncludeModule, the gathered Thread/Module callbacks, and the
// memory selection with MemoryCallback and RemoveMemoryCallback.
#include "writer/dump_plan.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "writer/memory_reader.h"
#include "writer/memory_selection.h"
#include "writer/windows_terms.h"

namespace snapdump::writer {

void Steering::check_cancel(const char* where) {
  if (!ask_cancel_) return;
  CancelAnswer answer = cb_.cancel();
  ask_cancel_ = answer.check_cancel;
  if (answer.cancel) throw Error(Errc::cancelled, fmt::format("the Cancel callback cancelled the dump ({})", where));
}

ThreadWriteFlags default_thread_flags(DumpType type) {
  ThreadWriteFlags flags = thread_write::kThread | thread_write::kStack | thread_write::kContext |
                           thread_write::kInstructionWindow;
  if (type & dump::kWithProcessThreadData) flags |= thread_write::kThreadData;
  if (type & dump::kWithThreadInfo) flags |= thread_write::kThreadInfo;
  return flags;
}

ModuleWriteFlags default_module_flags(DumpType type) {
  ModuleWriteFlags flags = module_write::kModule | module_write::kMiscRecord | module_write::kCvRecord;
  if (type & dump::kWithDataSegs) flags |= module_write::kDataSeg;
  if (type & dump::kWithCodeSegs) flags |= module_write::kCodeSegs;
  return flags;
}

namespace {

uint32_t page_protection_of(const Region& r) { return page_protection(r.prot, r.shared, r.path); }

std::string file_name(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string::npos ? path : path.substr(slash + 1));
}

std::vector<uint8_t> cv_record_of(const ElfIdentity& elf) {
  return elf_cv_record(std::span<const uint8_t>(elf.build_id.data(), elf.build_id.size()));
}

void enumerate(const Snapshot& snapshot, const DumpOptions& options, Steering& steering, DumpPlan& plan) {
  for (const ThreadEntry& t : snapshot.threads()) {
    if (t.capture == ThreadCapture::exited) continue;
    ThreadWriteFlags flags = default_thread_flags(options.type);
    if (!steering->include_thread(static_cast<uint32_t>(t.tid), flags) || !(flags & thread_write::kThread)) continue;
    plan.threads.push_back({&t, flags});
  }
  bool filter_paths = options.type & (dump::kFilterModulePaths | dump::kFilterTriage);
  for (const Region& r : snapshot.memory_map()) {
    if (!r.elf) continue;
    ModuleWriteFlags flags = default_module_flags(options.type);
    if (!steering->include_module(r.elf->load_address, flags) || !(flags & module_write::kModule)) continue;
    plan.modules.push_back({&r, flags, filter_paths ? file_name(r.path) : std::string(r.path), cv_record_of(*r.elf)});
  }
  steering.check_cancel("enumerating threads and modules");
}

void gather(DumpPlan& plan, Steering& steering, const Snapshot& snapshot, const DumpOptions& options) {
  std::erase_if(plan.threads, [&](PlannedThread& p) {
    auto [lo, hi] = stack_bounds(snapshot, options, *p.thread);
    ThreadCallbackInfo info{*p.thread, lo, hi};
    return !steering->thread(info, p.flags) || !(p.flags & thread_write::kThread);
  });
  std::erase_if(plan.modules, [&](PlannedModule& m) {
    const ElfIdentity& elf = *m.region->elf;
    ModuleCallbackInfo info{m.name, elf.load_address, elf.image_size, 0, 0, m.cv_record};
    return !steering->module(info, m.flags) || !(m.flags & module_write::kModule);
  });
  steering.check_cancel("gathering threads and modules");
}

void describe_regions(const Snapshot& snapshot, Steering& steering, DumpPlan& plan) {
  uint64_t image_base = 0;
  for (const Region& r : snapshot.memory_map()) {
    if (r.elf) image_base = r.start;
    // A module's mappings share one allocation base, as the sections of a Windows image do.
    VmRegionInfo info = region_info(r, r.type == RegionType::image && image_base ? image_base : r.start);
    if (plan.vm_callbacks) {
      if (std::optional<VmRegionInfo> q = steering->vm_query(r.start)) {
        // The answer may narrow the region; it cannot move outside what the snapshot holds.
        uint64_t lo = std::clamp(q->base, r.start, r.end), hi = std::clamp(q->base + q->size, lo, r.end);
        info = *q;
        info.base = lo;
        info.size = hi - lo;
      }
    }
    plan.regions.push_back(info);
  }
}

}  // namespace

VmRegionInfo region_info(const Region& r, uint64_t allocation_base) {
  VmRegionInfo i;
  i.base = r.start;
  i.allocation_base = allocation_base;
  i.size = r.end - r.start;
  i.state = format::mem::kCommit;
  i.protect = page_protection_of(r);
  i.allocation_protect = i.protect;
  i.type = r.type == RegionType::image    ? format::mem::kImage
           : r.type == RegionType::mapped ? format::mem::kMapped
                                          : format::mem::kPrivate;
  return i;
}

DumpPlan plan_dump(const Snapshot& snapshot, const DumpOptions& options, Steering& steering) {
  DumpPlan plan;
  plan.secondary_flags = steering->secondary_flags(options.secondary_flags);
  if (plan.secondary_flags & ~secondary::kValidFlags) {
    throw Error(Errc::invalid_argument,
                fmt::format("{:#x} are not MINIDUMP_SECONDARY_FLAGS", plan.secondary_flags & ~secondary::kValidFlags));
  }
  plan.vm_callbacks = steering->vm_start();
  enumerate(snapshot, options, steering, plan);
  MemoryReader reader(snapshot, options, steering, plan.vm_callbacks);
  // MiniDumpScanMemory marks the modules the stacks point into before ModuleCallback sees them,
  // so that a callback can drop the others (ModuleReferencedByMemory).
  if (options.type & dump::kScanMemory) mark_referenced_modules(snapshot, options, plan, reader);
  gather(plan, steering, snapshot, options);
  describe_regions(snapshot, steering, plan);
  select_memory(snapshot, options, plan, reader);
  if (!(options.type & dump::kWithFullMemory)) {
    while (std::optional<MemoryRange> add = steering->memory()) {
      if (add->size == 0) break;
      plan.memory.add(add->base, add->base + add->size);
    }
    while (std::optional<MemoryRange> cut = steering->remove_memory()) {
      if (cut->size == 0) break;
      plan.memory.remove(cut->base, cut->base + cut->size);
    }
  }
  // The MemoryList's bytes sit below 4 GiB in the file (its RVAs are 32 bits) with every other
  // stream: say so now, before anything is read or written, rather than fail half-way.
  constexpr uint64_t kMemoryListLimit = (uint64_t{4} << 30) - (uint64_t{64} << 20);
  if (plan.memory.total() > kMemoryListLimit) {
    throw Error(Errc::invalid_argument,
                fmt::format("the memory this dump type selects ({:.1f} GiB) is more than a MemoryList can address "
                            "(32-bit RVAs: under 4 GiB in all); MiniDumpWithFullMemory writes a Memory64List, "
                            "which has no such limit",
                            plan.memory.total() / double(uint64_t{1} << 30)));
  }
  steering.check_cancel("selecting memory");
  return plan;
}

}  // namespace snapdump::writer
