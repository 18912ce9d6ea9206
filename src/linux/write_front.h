// Where a running process is writing its memory now, seen from the pages it no longer shares
// with its VA clone. Right after the fork every private anonymous page of the target is shared
// with the clone; a page the target writes afterwards is copied and becomes its own again, which
// /proc/PID/pagemap shows as "exclusively mapped" (bit 56, readable without privilege). A run of
// such pages is a stretch the target wrote since the clone was made: a sequential writer (a bump
// allocator, a ring buffer, a JVM's eden) leaves one long run ending where it writes now, a
// random writer leaves scattered single pages.
//
// A full dump that lets the clone go of each range once written (Snapshot::release_memory) costs
// a sequential writer least when it starts where the writer is: the dump then moves ahead of the
// writer (it reads faster than a program writes) and the writer only ever reaches pages already
// released, which it takes over without a copy.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <utility>

namespace snapdump::os {

// The end of the longest run of pages in `ranges` (disjoint, each [start, end) page-aligned)
// that `pid` maps present and exclusively, if that run is at least `min_pages` long; a later run
// wins a tie. Runs do not continue across ranges. nullopt when none is that long, or when
// /proc/PID/pagemap cannot be read (the process is gone, or may not be read by this one).
std::optional<uint64_t> write_front(pid_t pid, std::span<const std::pair<uint64_t, uint64_t>> ranges, uint64_t min_pages);

}  // namespace snapdump::os
