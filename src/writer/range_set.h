// A set of address ranges kept sorted and disjoint. Readers keep a dump's memory in range maps
// that refuse overlaps, and callbacks add and remove ranges in any order, so every range the
// writer collects goes through one of these.
#pragma once

#include <cstdint>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

namespace snapdump::writer {

class RangeSet {
 public:
  // Adds [start, end), merging with ranges it overlaps or touches.
  void add(uint64_t start, uint64_t end) {
    if (start >= end) return;
    auto it = ranges_.upper_bound(start);
    if (it != ranges_.begin() && std::prev(it)->second >= start) --it;
    while (it != ranges_.end() && it->first <= end) {
      start = std::min(start, it->first);
      end = std::max(end, it->second);
      it = ranges_.erase(it);
    }
    ranges_.emplace(start, end);
  }

  // Removes [start, end), splitting a range that straddles it.
  void remove(uint64_t start, uint64_t end) {
    if (start >= end) return;
    auto it = ranges_.upper_bound(start);
    if (it != ranges_.begin()) --it;
    while (it != ranges_.end() && it->first < end) {
      auto [lo, hi] = *it;
      if (hi <= start) {
        ++it;
        continue;
      }
      it = ranges_.erase(it);
      if (lo < start) ranges_.emplace(lo, start);
      if (hi > end) ranges_.emplace(end, hi);
    }
  }

  bool contains(uint64_t address) const {
    auto it = ranges_.upper_bound(address);
    return it != ranges_.begin() && std::prev(it)->second > address;
  }

  bool empty() const { return ranges_.empty(); }
  uint64_t total() const {
    uint64_t sum = 0;
    for (const auto& [lo, hi] : ranges_) sum += hi - lo;
    return sum;
  }
  std::vector<std::pair<uint64_t, uint64_t>> ranges() const { return {ranges_.begin(), ranges_.end()}; }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // start -> end
};

}  // namespace snapdump::writer
