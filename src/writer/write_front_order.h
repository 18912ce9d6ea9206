// The order in which a full dump writes memory that it releases as it goes (release_written_memory
// with a VA clone): by address, or from where the running target is writing in sequence round to
// the lowest address. A sequential writer (a bump allocator, a ring buffer, a JVM's eden) then
// finds the pages ahead of it already written and released, so it copies none of them: the dump
// reads faster than a program writes, and it started where the program was. A random writer is
// no worse off in either order. Both writers use it: the minidump's Memory64List
// (memory_streams.cpp) and the ELF core's segments (core/core_writer.cpp). Where the target
// writes comes from the pages it no longer shares with the clone (src/linux/write_front.h).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace snapdump::writer {

// A run of 8 pages written since the clone is a sequential writer's trail. A random writer's
// pages lie apart (with a tenth of a heap written, 8 in a row come up about once in 400 MiB),
// and a false front costs it nothing: its writes land anywhere whatever the order.
inline constexpr uint64_t kWriteFrontPages = 8;

// Asks `look(ranges, min_pages)` where the target writes among `candidates` (private anonymous
// memory the clone shares). The plan is made a millisecond or two after the target resumed, when
// a writer may not have left its trail yet: one more look 3 ms later (a full dump takes hundreds
// of milliseconds).
template <class Look>
std::optional<uint64_t> look_for_write_front(const Look& look, std::span<const std::pair<uint64_t, uint64_t>> candidates) {
  if (candidates.empty()) return std::nullopt;
  std::optional<uint64_t> front = look(candidates, kWriteFrontPages);
  if (!front) {
    usleep(3000);
    front = look(candidates, kWriteFrontPages);
  }
  return front;
}

// Reorders `parts` (disjoint, in address order, each with `start` and `end`) to begin at
// `front`, cutting the part that holds it in two, and wraps round to the lowest address. Returns
// the address the parts now begin at (the front, or the start of the next part when the front
// ends one), or 0 when the order did not change.
template <class Part>
uint64_t start_at_write_front(std::vector<Part>& parts, uint64_t front) {
  auto at = std::find_if(parts.begin(), parts.end(), [&](const Part& p) { return p.end > front; });
  if (at == parts.end() || (at == parts.begin() && at->start >= front)) return 0;
  if (at->start < front) {
    Part upper = *at;
    upper.start = front;
    at->end = front;
    at = parts.insert(at + 1, upper);
  }
  std::rotate(parts.begin(), at, parts.end());
  return parts.front().start;
}

}  // namespace snapdump::writer
