// common/ranges.h: merge_ranges sorts and merges in place, for std and arena-backed vectors.
#include "common/ranges.h"

#include <cstdint>
#include <memory_resource>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace snapdump {
namespace {

using Pairs = std::vector<std::pair<uint64_t, uint64_t>>;

TEST(MergeRanges, SortsAndMergesOverlappingAndTouchingRanges) {
  Pairs r = {{50, 60}, {0, 10}, {10, 20}, {15, 18}, {30, 40}, {35, 45}, {59, 70}};
  merge_ranges(r);
  EXPECT_EQ(r, (Pairs{{0, 20}, {30, 45}, {50, 70}}));
}

TEST(MergeRanges, EmptyAndDisjointAreKept) {
  Pairs none;
  merge_ranges(none);
  EXPECT_TRUE(none.empty());
  Pairs apart = {{30, 40}, {0, 10}};
  merge_ranges(apart);
  EXPECT_EQ(apart, (Pairs{{0, 10}, {30, 40}}));
}

// In place: the capacity is unchanged, so nothing was taken from the arena.
TEST(MergeRanges, WorksInPlaceOnAnArenaBackedVector) {
  std::pmr::monotonic_buffer_resource arena;
  std::pmr::vector<std::pair<uint64_t, uint64_t>> r(&arena);
  r = {{8, 12}, {0, 9}, {20, 21}};
  auto capacity = r.capacity();
  merge_ranges(r);
  EXPECT_EQ(r.capacity(), capacity);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], std::make_pair(uint64_t{0}, uint64_t{12}));
  EXPECT_EQ(r[1], std::make_pair(uint64_t{20}, uint64_t{21}));
}

}  // namespace
}  // namespace snapdump
