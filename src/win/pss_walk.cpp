// PssWalkSnapshot and the walk markers. A marker is one position; the entries it returns
// point into memory the marker owns (or the snapshot, for auxiliary page contents).
#include <cstring>
#include <memory>

#include "win/handles.h"
#include "win/pss_entries.h"
#include "win/win_errors.h"

using namespace snapdump;
using namespace snapdump::win;

namespace {

template <class Entry, class Source, class Convert>
DWORD walk(std::span<const Source> items, WalkMarkerObject& m, void* buffer, DWORD length, Convert convert) {
  if (m.marker.position() >= items.size()) return ERROR_NO_MORE_ITEMS;
  if (!buffer) return ERROR_MORE_DATA;  // an entry is there, but nowhere to put it
  if (length != sizeof(Entry)) return ERROR_BAD_LENGTH;
  Entry e = convert(items[m.marker.position()]);
  std::memcpy(buffer, &e, sizeof e);
  m.marker.set_position(m.marker.position() + 1);
  return ERROR_SUCCESS;
}

DWORD walk_snapshot(const SnapshotObject& object, PSS_WALK_INFORMATION_CLASS what, WalkMarkerObject& m,
                    void* buffer, DWORD length) {
  const Snapshot& s = object.snapshot;
  bool section_information = s.flags() & capture::kVaSpaceSectionInformation;
  switch (what) {
    case PSS_WALK_AUXILIARY_PAGES:
      return walk<PSS_AUXILIARY_PAGE_ENTRY>(s.auxiliary_pages(), m, buffer, length,
                                            [&](const AuxiliaryPage& p) { return auxiliary_page_entry(s, p); });
    case PSS_WALK_VA_SPACE:
      if (!(s.flags() & capture::kVaSpace)) return ERROR_NOT_FOUND;
      return walk<PSS_VA_SPACE_ENTRY>(s.regions(), m, buffer, length, [&](const Region& r) {
        return va_space_entry(s, r, section_information, m);
      });
    case PSS_WALK_HANDLES:
      return walk<PSS_HANDLE_ENTRY>(s.handles(), m, buffer, length,
                                    [&](const HandleEntry& h) { return handle_entry(h, m); });
    case PSS_WALK_THREADS:
      return walk<PSS_THREAD_ENTRY>(s.threads(), m, buffer, length,
                                    [&](const ThreadEntry& t) { return thread_entry(s, t, m); });
  }
  return ERROR_INVALID_PARAMETER;
}

}  // namespace

extern "C" {

DWORD WINAPI PssWalkSnapshot(HPSS SnapshotHandle, PSS_WALK_INFORMATION_CLASS InformationClass,
                             HPSSWALK WalkMarkerHandle, void* Buffer, DWORD BufferLength) {
  auto* snapshot = find<SnapshotObject>(SnapshotHandle, HandleKind::snapshot);
  auto* marker = find<WalkMarkerObject>(WalkMarkerHandle, HandleKind::walk_marker);
  if (!snapshot || !marker) return ERROR_INVALID_HANDLE;
  try {
    return walk_snapshot(*snapshot, InformationClass, *marker, Buffer, BufferLength);
  } catch (...) {
    return win32_error_of(std::current_exception(), Operation::capture);
  }
}

DWORD WINAPI PssWalkMarkerCreate(PSS_ALLOCATOR const* Allocator, HPSSWALK* WalkMarkerHandle) {
  if (!WalkMarkerHandle) return ERROR_INVALID_PARAMETER;
  try {
    *WalkMarkerHandle = static_cast<HPSSWALK>(register_handle(std::make_unique<WalkMarkerObject>(Allocator)));
    return ERROR_SUCCESS;
  } catch (...) {
    *WalkMarkerHandle = nullptr;
    return ERROR_NOT_ENOUGH_MEMORY;
  }
}

DWORD WINAPI PssWalkMarkerFree(HPSSWALK WalkMarkerHandle) {
  if (!find<WalkMarkerObject>(WalkMarkerHandle, HandleKind::walk_marker)) return ERROR_INVALID_HANDLE;
  close_registered(WalkMarkerHandle);
  return ERROR_SUCCESS;
}

DWORD WINAPI PssWalkMarkerGetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR* Position) {
  auto* m = find<WalkMarkerObject>(WalkMarkerHandle, HandleKind::walk_marker);
  if (!m) return ERROR_INVALID_HANDLE;
  if (!Position) return ERROR_INVALID_PARAMETER;
  *Position = m->marker.position();
  return ERROR_SUCCESS;
}

DWORD WINAPI PssWalkMarkerSetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR Position) {
  auto* m = find<WalkMarkerObject>(WalkMarkerHandle, HandleKind::walk_marker);
  if (!m) return ERROR_INVALID_HANDLE;
  m->marker.set_position(Position);
  return ERROR_SUCCESS;
}

DWORD WINAPI PssWalkMarkerSeekToBeginning(HPSSWALK WalkMarkerHandle) {
  auto* m = find<WalkMarkerObject>(WalkMarkerHandle, HandleKind::walk_marker);
  if (!m) return ERROR_INVALID_HANDLE;
  m->marker.seek_to_beginning();
  return ERROR_SUCCESS;
}

}  // extern "C"
