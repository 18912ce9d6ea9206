// The numeric entries of a /proc directory (fds in /proc/PID/fd, tids in /proc/PID/task)
// without the heap: raw getdents64 into a stack buffer, no opendir/readdir (glibc mallocs the
// DIR), for captures under kCreateUseVmAllocations.
#pragma once

#include <memory_resource>
#include <vector>

namespace snapdump::os {

// Fills `out` (cleared first) with the names of `dir` that are decimal numbers in [0, INT_MAX],
// ascending. 0, or the errno that kept the directory from being read.
int list_numeric_entries(const char* dir, std::pmr::vector<int>& out);

}  // namespace snapdump::os
