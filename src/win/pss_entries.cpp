#include "win/pss_entries.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cstring>

#include "win/wide.h"
#include "writer/dump_plan.h"
#include "writer/streams.h"

namespace snapdump::win {

namespace {

constexpr uint64_t kUnixEpochAsFiletime = 116444736000000000ull;  // 1970-01-01 in 100 ns since 1601
constexpr DWORD kObjInherit = 0x2;  // OBJ_INHERIT: the fd survives exec
constexpr DWORD kNormalPriorityClass = 0x20;

FILETIME split(uint64_t v) {
  return FILETIME{static_cast<DWORD>(v), static_cast<DWORD>(v >> 32)};
}

MEMORY_BASIC_INFORMATION basic_information(const VmRegionInfo& i) {
  MEMORY_BASIC_INFORMATION m{};
  m.BaseAddress = reinterpret_cast<void*>(i.base);
  m.AllocationBase = reinterpret_cast<void*>(i.allocation_base);
  m.AllocationProtect = i.allocation_protect;
  m.RegionSize = i.size;
  m.State = i.state;
  m.Protect = i.protect;
  m.Type = i.type;
  return m;
}

// The module mapping (the one with the ELF identity) a region of a loaded file belongs to, or
// nullptr: Linux maps a module as several regions, Windows as one image allocation.
const Region* module_of(const Snapshot& s, const Region& r) {
  if (r.path.empty()) return nullptr;
  for (const Region& m : s.memory_map()) {
    if (m.elf && m.path == r.path && m.elf->load_address <= r.start &&
        r.start < m.elf->load_address + m.elf->image_size)
      return &m;
  }
  return nullptr;
}

// The allocation a region belongs to: the module's load address for an ELF mapping, else the
// region itself (Linux has no VirtualAlloc reservations to group regions).
uint64_t allocation_base_of(const Snapshot& s, const Region& r) {
  const Region* m = module_of(s, r);
  return m ? m->elf->load_address : r.start;
}

}  // namespace

FILETIME filetime_at(uint64_t unix_ns) { return split(unix_ns == 0 ? 0 : unix_ns / 100 + kUnixEpochAsFiletime); }
FILETIME filetime_span(uint64_t ns) { return split(ns / 100); }

PSS_PROCESS_INFORMATION process_information(const ProcessInfo& p) {
  PSS_PROCESS_INFORMATION info{};
  info.ExitStatus = STILL_ACTIVE;
  info.AffinityMask = p.affinity_mask;
  info.BasePriority = p.priority;
  info.ProcessId = static_cast<DWORD>(p.pid);
  info.ParentProcessId = static_cast<DWORD>(p.parent_pid);
  info.Flags = PSS_PROCESS_FLAGS_NONE;
  info.CreateTime = filetime_at(p.create_time_unix_ns);
  info.KernelTime = filetime_span(p.kernel_time_ns);
  info.UserTime = filetime_span(p.user_time_ns);
  info.PriorityClass = kNormalPriorityClass;
  info.PeakVirtualSize = p.peak_virtual_size;
  info.VirtualSize = p.virtual_size;
  info.PageFaultCount = static_cast<DWORD>(p.page_fault_count);
  info.PeakWorkingSetSize = p.peak_working_set_size;
  info.WorkingSetSize = p.working_set_size;
  info.PagefileUsage = p.pagefile_usage;
  info.PeakPagefileUsage = p.pagefile_usage;
  info.PrivateUsage = p.private_usage;
  std::wstring image = widen(p.image_path);
  size_t n = std::min(image.size(), size_t{MAX_PATH - 1});
  std::wmemcpy(info.ImageFileName, image.data(), n);
  info.ImageFileName[n] = L'\0';
  return info;
}

PSS_PERFORMANCE_COUNTERS performance_counters(const PerformanceCounters& c) {
  // Wall-clock periods are in 1/PSS_PERF_RESOLUTION seconds (microseconds).
  auto us = [](const PhaseCounter& p) { return p.wall_ns / (1000000000ull / PSS_PERF_RESOLUTION); };
  PSS_PERFORMANCE_COUNTERS out{};
  out.TotalCycleCount = c.total.cycles, out.TotalWallClockPeriod = us(c.total);
  out.VaCloneCycleCount = c.va_clone.cycles, out.VaCloneWallClockPeriod = us(c.va_clone);
  out.VaSpaceCycleCount = c.va_space.cycles, out.VaSpaceWallClockPeriod = us(c.va_space);
  out.AuxPagesCycleCount = c.aux_pages.cycles, out.AuxPagesWallClockPeriod = us(c.aux_pages);
  out.HandlesCycleCount = c.handles.cycles, out.HandlesWallClockPeriod = us(c.handles);
  out.ThreadsCycleCount = c.threads.cycles, out.ThreadsWallClockPeriod = us(c.threads);
  return out;
}

PSS_THREAD_ENTRY thread_entry(const Snapshot& s, const ThreadEntry& t, WalkMarkerObject& marker) {
  PSS_THREAD_ENTRY e{};
  bool exited = t.capture == ThreadCapture::exited;
  e.ExitStatus = exited ? 0 : STILL_ACTIVE;
  e.TebBaseAddress = reinterpret_cast<void*>(t.regs.fs_base);  // glibc's TCB: the Linux TEB
  e.Win32StartAddress = reinterpret_cast<void*>(t.start_address);
  e.ProcessId = static_cast<DWORD>(s.pid());
  e.ThreadId = static_cast<DWORD>(t.tid);
  e.AffinityMask = t.affinity_mask;
  e.Priority = t.priority;
  e.BasePriority = t.nice;
  if (t.syscall_number >= 0) {
    e.LastSyscallFirstArgument = reinterpret_cast<void*>(t.syscall_args[0]);
    e.LastSyscallNumber = static_cast<WORD>(t.syscall_number);
  }
  e.CreateTime = filetime_at(t.create_time_unix_ns);
  e.KernelTime = filetime_span(t.kernel_time_ns);
  e.UserTime = filetime_span(t.user_time_ns);
  e.CaptureTime = filetime_at(t.capture_time_unix_ns);
  e.Flags = exited ? PSS_THREAD_FLAGS_TERMINATED : PSS_THREAD_FLAGS_NONE;
  if (!exited && (s.flags() & capture::kThreadContext)) {
    static_assert(sizeof(CONTEXT) == sizeof(format::ContextAmd64));
    format::ContextAmd64 c = writer::to_context(t);
    auto* record = static_cast<CONTEXT*>(marker.allocate(sizeof(CONTEXT)));
    std::memcpy(static_cast<void*>(record), &c, sizeof c);
    e.ContextRecord = record;
    e.SizeOfContextRecord = sizeof(CONTEXT);
  }
  return e;
}

PSS_VA_SPACE_ENTRY va_space_entry(const Snapshot& s, const Region& r, bool section_information,
                                  WalkMarkerObject& marker) {
  VmRegionInfo i = writer::region_info(r, allocation_base_of(s, r));
  PSS_VA_SPACE_ENTRY e{};
  e.BaseAddress = reinterpret_cast<void*>(i.base);
  e.AllocationBase = reinterpret_cast<void*>(i.allocation_base);
  e.AllocationProtect = i.allocation_protect;
  e.RegionSize = i.size;
  e.State = i.state;
  e.Protect = i.protect;
  e.Type = i.type;
  if (section_information && !r.path.empty() && r.path[0] == '/') {
    std::wstring name = widen(r.path);
    name.resize(std::min(name.size(), size_t{0xFFFF / sizeof(wchar_t)}));
    e.MappedFileName = marker.copy_wide(name);
    e.MappedFileNameLength = static_cast<WORD>(name.size() * sizeof(wchar_t));
    if (const Region* m = module_of(s, r)) {
      e.ImageBase = reinterpret_cast<void*>(m->elf->load_address);
      e.SizeOfImage = static_cast<DWORD>(m->elf->image_size);
      e.TimeDateStamp = static_cast<DWORD>(m->elf->file_mtime_unix);
    }
  }
  return e;
}

PSS_HANDLE_ENTRY handle_entry(const HandleEntry& h, WalkMarkerObject& marker) {
  PSS_HANDLE_ENTRY e{};
  e.Handle = reinterpret_cast<HANDLE>(static_cast<intptr_t>(h.fd));
  e.CaptureTime = filetime_at(h.capture_time_unix_ns);
  unsigned flags = PSS_HANDLE_NONE;
  if (!h.type_name.empty()) {
    std::wstring type = widen(h.type_name);
    e.TypeName = marker.copy_wide(type);
    e.TypeNameLength = static_cast<WORD>(type.size() * sizeof(wchar_t));
    flags |= PSS_HANDLE_HAVE_TYPE;
  }
  if (h.has_name) {
    std::wstring name = widen(h.name);
    name.resize(std::min(name.size(), size_t{0xFFFF / sizeof(wchar_t)}));
    e.ObjectName = marker.copy_wide(name);
    e.ObjectNameLength = static_cast<WORD>(name.size() * sizeof(wchar_t));
    flags |= PSS_HANDLE_HAVE_NAME;
  }
  if (h.has_basic) {
    e.Attributes = (h.open_flags & O_CLOEXEC) ? 0 : kObjInherit;
    e.GrantedAccess = h.granted_access;
    e.HandleCount = 1;
    flags |= PSS_HANDLE_HAVE_BASIC_INFORMATION;
  }
  e.ObjectType = PSS_OBJECT_TYPE_UNKNOWN;
  if (h.has_type_specific) {
    // Only the kinds with a Windows counterpart fill the union (docs/win-api.md).
    if (auto* pid = std::get_if<PidfdInfo>(&h.type_specific)) {
      e.ObjectType = PSS_OBJECT_TYPE_PROCESS;
      e.TypeSpecificInformation.Process.ExitStatus = STILL_ACTIVE;
      e.TypeSpecificInformation.Process.ProcessId = static_cast<DWORD>(pid->pid);
      flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
    } else if (auto* ev = std::get_if<EventFdInfo>(&h.type_specific)) {
      if (ev->semaphore) {
        e.ObjectType = PSS_OBJECT_TYPE_SEMAPHORE;
        e.TypeSpecificInformation.Semaphore.CurrentCount = static_cast<LONG>(std::min<uint64_t>(ev->count, INT32_MAX));
        e.TypeSpecificInformation.Semaphore.MaximumCount = INT32_MAX;
      } else {
        e.ObjectType = PSS_OBJECT_TYPE_EVENT;
        e.TypeSpecificInformation.Event.ManualReset = TRUE;
        e.TypeSpecificInformation.Event.Signaled = ev->count > 0;
      }
      flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
    } else if (auto* mem = std::get_if<MemfdInfo>(&h.type_specific)) {
      e.ObjectType = PSS_OBJECT_TYPE_SECTION;
      e.TypeSpecificInformation.Section.MaximumSize.QuadPart = static_cast<LONGLONG>(mem->size);
      flags |= PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION;
    }
  }
  e.Flags = static_cast<PSS_HANDLE_FLAGS>(flags);
  return e;
}

PSS_AUXILIARY_PAGE_ENTRY auxiliary_page_entry(const Snapshot& s, const AuxiliaryPage& page) {
  PSS_AUXILIARY_PAGE_ENTRY e{};
  e.Address = reinterpret_cast<const void*>(page.address);
  if (const Region* r = find_region(s.memory_map(), page.address)) {
    e.BasicInformation = basic_information(writer::region_info(*r, allocation_base_of(s, *r)));
  }
  e.CaptureTime = filetime_at(page.capture_time_unix_ns);
  // The bytes live in the snapshot, which outlives any walk of it.
  e.PageContents = const_cast<uint8_t*>(page.bytes.data());
  e.PageSize = static_cast<DWORD>(page.bytes.size());
  return e;
}

}  // namespace snapdump::win
