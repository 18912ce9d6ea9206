// Which pages of an address range exist: present in memory or swapped out. An anonymous page that
// was never touched does not exist yet (it would read as zeros); on Windows it would be reserved,
// not committed, and a minidump leaves it out. A sparse reservation (a sanitizer's shadow memory
// is terabytes of it) must not be read byte by byte.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace snapdump::os {

// The [start, end) runs of pages of `pid` in [start, end) that are present or swapped, merged,
// in address order. nullopt when the kernel has no PAGEMAP_SCAN ioctl (before Linux 6.7) or
// /proc/PID/pagemap cannot be read: the caller then treats the whole range as populated.
std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated_ranges(pid_t pid, uint64_t start, uint64_t end);

}  // namespace snapdump::os
