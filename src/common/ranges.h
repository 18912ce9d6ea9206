// [start, end) address ranges.
#pragma once

#include <algorithm>
#include <cstddef>

namespace snapdump {

// Sorts `ranges` (a vector of std::pair<uint64_t, uint64_t>, any allocator) and merges the ones
// that overlap or touch, in place. Nothing is allocated, so the pause's arena-backed vectors can
// use it too. Readers of a MemoryList take its ranges to be disjoint; a copy taken once per
// merged range reads each byte once.
template <class Ranges>
void merge_ranges(Ranges& ranges) {
  std::sort(ranges.begin(), ranges.end());
  std::size_t kept = 0;
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    if (kept > 0 && ranges[i].first <= ranges[kept - 1].second) {
      ranges[kept - 1].second = std::max(ranges[kept - 1].second, ranges[i].second);
    } else {
      ranges[kept++] = ranges[i];
    }
  }
  ranges.resize(kept);
}

}  // namespace snapdump
