// The HANDLE model of the Windows-compatible API. A HANDLE is the address of a HandleObject
// kept in a process-wide registry, so a stale or made-up handle is refused with
// ERROR_INVALID_HANDLE instead of being dereferenced. GetCurrentProcess() is the pseudo-handle
// (HANDLE)-1, as on Windows; it is not in the registry.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "snapdump/snapshot.h"
#include "snapdump/win/processsnapshot.h"

namespace snapdump::win {

enum class HandleKind { process, file, snapshot, walk_marker };

struct HandleObject {
  explicit HandleObject(HandleKind k) : kind(k) {}
  virtual ~HandleObject() = default;
  HandleKind kind;
};

// From OpenProcess: a PID (Linux has no process handles that pin a process; see docs).
struct ProcessObject : HandleObject {
  ProcessObject(pid_t p, DWORD a) : HandleObject(HandleKind::process), pid(p), access(a) {}
  pid_t pid;
  DWORD access;
};

// From CreateFile: an owned file descriptor.
struct FileObject : HandleObject {
  explicit FileObject(int f) : HandleObject(HandleKind::file), fd(f) {}
  ~FileObject() override;
  int fd;
};

// An HPSS: one snapdump::Snapshot handle (PssDuplicateSnapshot makes another sharing the capture).
struct SnapshotObject : HandleObject {
  explicit SnapshotObject(Snapshot s) : HandleObject(HandleKind::snapshot), snapshot(std::move(s)) {}
  ~SnapshotObject() override;
  Snapshot snapshot;  // captured with the PSS_CAPTURE_FLAGS the caller gave (snapshot.flags())
  HANDLE va_clone_handle = nullptr;  // made on the first PSS_QUERY_VA_CLONE_INFORMATION, closed with us
};

// An HPSSWALK: a position plus the memory its entries point into, which lives as long as the
// marker (the documented lifetime of TypeName, ObjectName, MappedFileName, ContextRecord).
struct WalkMarkerObject : HandleObject {
  explicit WalkMarkerObject(const PSS_ALLOCATOR* a);
  ~WalkMarkerObject() override;
  // Memory for one entry's strings or context: from the caller's PSS_ALLOCATOR when given.
  void* allocate(size_t bytes);
  const wchar_t* copy_wide(const std::wstring& text);

  WalkMarker marker;
  PSS_ALLOCATOR allocator{};
  bool has_allocator = false;
  std::vector<void*> blocks;
};

// Registers `object` and returns its HANDLE.
HANDLE register_handle(std::unique_ptr<HandleObject> object);
// The object behind `handle` if it is registered and of `kind`, else nullptr.
HandleObject* find_handle(HANDLE handle, HandleKind kind);
template <class T>
T* find(HANDLE handle, HandleKind kind) {
  return static_cast<T*>(find_handle(handle, kind));
}
// Unregisters and destroys; false for an unknown handle.
bool close_registered(HANDLE handle);

inline HANDLE current_process_pseudo_handle() { return reinterpret_cast<HANDLE>(static_cast<intptr_t>(-1)); }

// The PID a process HANDLE names (the pseudo-handle names this process), or -1.
pid_t pid_of_process_handle(HANDLE handle);

}  // namespace snapdump::win
