// Counting heap allocations, for the tests of kCreateUseVmAllocations (no heap in the capture
// path). heap_counter.cpp replaces the global operator new family and, in builds without a
// sanitizer (which brings its own allocator), malloc, calloc, realloc and the aligned forms;
// each counts a call made on a thread that is being watched and otherwise just allocates.
// Linked into the unit and integration test binaries (tests/CMakeLists.txt).
#pragma once

namespace snapdump::testing {

// Starts (true) or stops (false) counting the calling thread's allocations. Counts accumulate
// over every watched stretch of the thread's life.
void heap_watch(bool on);
// How many allocations the calling thread made while watched.
long heap_watched_count();
// False in sanitizer builds: there only operator new is counted, not malloc.
bool heap_watch_sees_malloc();

}  // namespace snapdump::testing
