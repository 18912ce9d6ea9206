// PssCaptureSnapshot, PssFreeSnapshot, PssDuplicateSnapshot and PssQuerySnapshot over
// snapdump::Snapshot. Each returns a Win32 error code and never throws.
#include <unistd.h>

#include <cstring>
#include <memory>

#include "win/handles.h"
#include "win/pss_entries.h"
#include "win/win_errors.h"

using namespace snapdump;
using namespace snapdump::win;

namespace {

// Copies `value` to the caller's buffer, which must be exactly its size (ERROR_BAD_LENGTH).
template <class T>
DWORD answer(const T& value, void* buffer, DWORD length) {
  if (length != sizeof(T)) return ERROR_BAD_LENGTH;
  std::memcpy(buffer, &value, sizeof(T));
  return ERROR_SUCCESS;
}

DWORD query(SnapshotObject& object, PSS_QUERY_INFORMATION_CLASS what, void* buffer, DWORD length) {
  const Snapshot& s = object.snapshot;
  switch (what) {
    case PSS_QUERY_PROCESS_INFORMATION:
      return answer(process_information(s.process()), buffer, length);
    case PSS_QUERY_VA_CLONE_INFORMATION: {
      auto clone = s.va_clone_pid();
      if (!clone) return ERROR_NOT_FOUND;
      if (length != sizeof(PSS_VA_CLONE_INFORMATION)) return ERROR_BAD_LENGTH;
      // A process handle naming the clone, owned by the snapshot handle (freed with it).
      if (!object.va_clone_handle)
        object.va_clone_handle = register_handle(std::make_unique<ProcessObject>(*clone, PROCESS_ALL_ACCESS));
      return answer(PSS_VA_CLONE_INFORMATION{object.va_clone_handle}, buffer, length);
    }
    case PSS_QUERY_AUXILIARY_PAGES_INFORMATION:
      return answer(PSS_AUXILIARY_PAGES_INFORMATION{static_cast<DWORD>(s.auxiliary_pages().size())}, buffer, length);
    case PSS_QUERY_VA_SPACE_INFORMATION:
      if (!(object.snapshot.flags() & capture::kVaSpace)) return ERROR_NOT_FOUND;
      return answer(PSS_VA_SPACE_INFORMATION{static_cast<DWORD>(s.regions().size())}, buffer, length);
    case PSS_QUERY_HANDLE_INFORMATION:
      return answer(PSS_HANDLE_INFORMATION{static_cast<DWORD>(s.handles().size())}, buffer, length);
    case PSS_QUERY_THREAD_INFORMATION: {
      DWORD context = (s.flags() & capture::kThreadContext) ? sizeof(CONTEXT) : 0;
      return answer(PSS_THREAD_INFORMATION{static_cast<DWORD>(s.threads().size()), context}, buffer, length);
    }
    case PSS_QUERY_HANDLE_TRACE_INFORMATION:
      // Linux keeps no handle-operation trace: there is never one to return.
      return ERROR_NOT_FOUND;
    case PSS_QUERY_PERFORMANCE_COUNTERS:
      if (!(s.flags() & capture::kCreateMeasurePerformance)) return ERROR_NOT_FOUND;
      return answer(performance_counters(s.performance()), buffer, length);
  }
  return ERROR_INVALID_PARAMETER;
}

}  // namespace

extern "C" {

DWORD WINAPI PssCaptureSnapshot(HANDLE ProcessHandle, PSS_CAPTURE_FLAGS CaptureFlags, DWORD ThreadContextFlags,
                                HPSS* SnapshotHandle) {
  if (!SnapshotHandle) return ERROR_INVALID_PARAMETER;
  *SnapshotHandle = nullptr;
  pid_t pid = pid_of_process_handle(ProcessHandle);
  if (pid < 0) return ERROR_INVALID_HANDLE;
  // A process cannot ptrace itself, and a snapshot taken by a helper process could not be
  // handed back (its clone and stops belong to the helper); MiniDumpWriteDump can dump this
  // process, PssCaptureSnapshot cannot snapshot it.
  if (pid == ::getpid()) return ERROR_NOT_SUPPORTED;
  try {
    // The engine reads module identities whatever the flags, so a dump of a snapshot captured
    // without the VA space (the seed's flags) still has its module list, as MiniDumpWriteDump on
    // Windows finds the modules in the clone's loader data whatever was captured.
    auto requested = static_cast<snapdump::CaptureFlags>(CaptureFlags);
    Snapshot s = Snapshot::capture(pid, requested, ThreadContextFlags);
    *SnapshotHandle = static_cast<HPSS>(register_handle(std::make_unique<SnapshotObject>(std::move(s))));
    return ERROR_SUCCESS;
  } catch (...) {
    return win32_error_of(std::current_exception(), Operation::capture);
  }
}

DWORD WINAPI PssFreeSnapshot(HANDLE ProcessHandle, HPSS SnapshotHandle) {
  // Snapshots live in this process; freeing one "in" another process is what Windows allows
  // only for PSS_CREATE_USE_VM_ALLOCATIONS snapshots, and is not meaningful here.
  if (ProcessHandle != current_process_pseudo_handle() && pid_of_process_handle(ProcessHandle) != ::getpid())
    return ERROR_NOT_SUPPORTED;
  if (!find<SnapshotObject>(SnapshotHandle, HandleKind::snapshot)) return ERROR_INVALID_HANDLE;
  close_registered(SnapshotHandle);
  return ERROR_SUCCESS;
}

DWORD WINAPI PssDuplicateSnapshot(HANDLE SourceProcessHandle, HPSS SnapshotHandle, HANDLE TargetProcessHandle,
                                  HPSS* TargetSnapshotHandle, PSS_DUPLICATE_FLAGS Flags) {
  if (!TargetSnapshotHandle) return ERROR_INVALID_PARAMETER;
  *TargetSnapshotHandle = nullptr;
  // Only duplication within this process is possible: a snapshot is this process's memory.
  pid_t self = ::getpid();
  if (pid_of_process_handle(SourceProcessHandle) != self) return ERROR_INVALID_HANDLE;
  if (pid_of_process_handle(TargetProcessHandle) != self) return ERROR_NOT_SUPPORTED;
  auto* source = find<SnapshotObject>(SnapshotHandle, HandleKind::snapshot);
  if (!source) return ERROR_INVALID_HANDLE;
  if (Flags & ~PSS_DUPLICATE_CLOSE_SOURCE) return ERROR_INVALID_PARAMETER;
  try {
    *TargetSnapshotHandle =
        static_cast<HPSS>(register_handle(std::make_unique<SnapshotObject>(source->snapshot.duplicate())));
  } catch (...) {
    return ERROR_NOT_ENOUGH_MEMORY;
  }
  if (Flags & PSS_DUPLICATE_CLOSE_SOURCE) close_registered(SnapshotHandle);
  return ERROR_SUCCESS;
}

DWORD WINAPI PssQuerySnapshot(HPSS SnapshotHandle, PSS_QUERY_INFORMATION_CLASS InformationClass, void* Buffer,
                              DWORD BufferLength) {
  auto* object = find<SnapshotObject>(SnapshotHandle, HandleKind::snapshot);
  if (!object) return ERROR_INVALID_HANDLE;
  if (!Buffer) return ERROR_INVALID_PARAMETER;
  try {
    return query(*object, InformationClass, Buffer, BufferLength);
  } catch (...) {
    return win32_error_of(std::current_exception(), Operation::capture);
  }
}

}  // extern "C"
