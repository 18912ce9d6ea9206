// The target's "heap": one anonymous mapping whose every word is predictable, so a test can
// check any captured address without a copy of the expected data.
#pragma once

#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace sdtarget {

// The 8-byte little-endian word at byte offset o is kHeapTag | (o / 8).
constexpr std::uint64_t kHeapTag = 0x5EED000000000000ULL;

// With thp the mapping is 2 MiB aligned and advised MADV_HUGEPAGE before it is touched.
void create_heap(std::size_t mib, bool thp);

// Writes the inverse of the pattern (or the pattern again) over the whole heap.
void fill_heap(bool inverted);

nlohmann::json heap_json();

}  // namespace sdtarget
