// Reading back a dump snapdump wrote, with the rules its dumps keep beyond what the format
// requires checked on the way: every test that reads one of snapdump's dumps goes through
// read_dump, so each rule holds for every dump the suite writes. (Dumps of other writers, and
// the byte-built dumps of the reader's tests, are opened with reader::Minidump::open.)
#pragma once

#include <string>
#include <vector>

#include "snapdump/reader.h"

namespace snapdump::testing {

// The memory-map rule of DbgHelp's dumps, which readers written for Windows rely on: when the
// dump has a MemoryInfoList, its entries are sorted and disjoint, each lies at or after its
// AllocationBase, and every MemoryList and Memory64List range begins an entry and ends one (a
// range may span several adjacent entries), so each entry is wholly in a range or wholly out of
// it. One line per violation; none for a dump without a MemoryInfoList.
std::vector<std::string> memory_layout_violations(const reader::Minidump& dump);

// reader::Minidump::open, then the rules above: throws std::runtime_error naming the file and
// every violation (the test fails with that message).
reader::Minidump read_dump(const std::string& path);

// "" when both dumps hold the same bytes at the same addresses, however their ranges are cut
// (a dump written from the target's write front cuts one range in two, and its Memory64List
// lists the ranges in another order); else what differs first.
std::string memory_difference(const reader::Minidump& a, const reader::Minidump& b);

}  // namespace snapdump::testing
