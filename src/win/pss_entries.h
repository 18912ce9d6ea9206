// Conversions from the snapshot's Linux records to the PSS_* structures of processsnapshot.h.
// Strings and contexts an entry points to are allocated in the walk marker.
#pragma once

#include "snapdump/snapshot.h"
#include "snapdump/win/processsnapshot.h"
#include "win/handles.h"

namespace snapdump::win {

// A wall-clock time (ns since 1970) as a FILETIME (100 ns since 1601); 0 stays 0.
FILETIME filetime_at(uint64_t unix_ns);
// A duration in ns as a FILETIME count of 100 ns units.
FILETIME filetime_span(uint64_t ns);

PSS_PROCESS_INFORMATION process_information(const ProcessInfo& p);
PSS_PERFORMANCE_COUNTERS performance_counters(const PerformanceCounters& c);
PSS_THREAD_ENTRY thread_entry(const Snapshot& s, const ThreadEntry& t, WalkMarkerObject& marker);
// `section_information`: PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION was asked for (file names,
// image bases).
PSS_VA_SPACE_ENTRY va_space_entry(const Snapshot& s, const Region& r, bool section_information,
                                  WalkMarkerObject& marker);
PSS_HANDLE_ENTRY handle_entry(const HandleEntry& h, WalkMarkerObject& marker);
PSS_AUXILIARY_PAGE_ENTRY auxiliary_page_entry(const Snapshot& s, const AuxiliaryPage& page);

}  // namespace snapdump::win
