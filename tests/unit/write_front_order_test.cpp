// The order a releasing full dump writes its memory in (src/writer/write_front_order.h).
#include "writer/write_front_order.h"

#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace snapdump::writer {
namespace {

struct Part {
  uint64_t start = 0, end = 0;
  int tag = 0;  // which part it was cut from
  bool operator==(const Part&) const = default;
};

const std::vector<Part> kParts{{0x1000, 0x3000, 1}, {0x5000, 0x9000, 2}, {0xa000, 0xb000, 3}};

TEST(WriteFrontOrder, AFrontInsideAPartCutsItAndTheOrderWrapsRound) {
  auto parts = kParts;
  EXPECT_EQ(start_at_write_front(parts, 0x7000), 0x7000u);
  std::vector<Part> want{{0x7000, 0x9000, 2}, {0xa000, 0xb000, 3}, {0x1000, 0x3000, 1}, {0x5000, 0x7000, 2}};
  EXPECT_EQ(parts, want);
}

TEST(WriteFrontOrder, AFrontAtAPartsEndOrInAGapStartsAtTheNextPart) {
  auto at_end = kParts;
  EXPECT_EQ(start_at_write_front(at_end, 0x9000), 0xa000u);
  std::vector<Part> want{{0xa000, 0xb000, 3}, {0x1000, 0x3000, 1}, {0x5000, 0x9000, 2}};
  EXPECT_EQ(at_end, want);
  auto in_gap = kParts;
  EXPECT_EQ(start_at_write_front(in_gap, 0x4000), 0x5000u);
  std::vector<Part> want_gap{{0x5000, 0x9000, 2}, {0xa000, 0xb000, 3}, {0x1000, 0x3000, 1}};
  EXPECT_EQ(in_gap, want_gap);
}

TEST(WriteFrontOrder, AFrontBeforeEveryPartOrAfterThemChangesNothing) {
  for (uint64_t front : {uint64_t{0}, uint64_t{0x1000}, uint64_t{0xb000}, uint64_t{0xf000}}) {
    auto parts = kParts;
    EXPECT_EQ(start_at_write_front(parts, front), 0u) << front;
    EXPECT_EQ(parts, kParts) << front;
  }
  std::vector<Part> none;
  EXPECT_EQ(start_at_write_front(none, 0x2000), 0u);
}

TEST(WriteFrontOrder, NoCandidatesMeansNoLookAndOneMoreLookWhenTheFirstFindsNothing) {
  int looks = 0;
  auto never = [&](std::span<const std::pair<uint64_t, uint64_t>>, uint64_t) -> std::optional<uint64_t> {
    ++looks;
    return std::nullopt;
  };
  EXPECT_FALSE(look_for_write_front(never, {}).has_value());
  EXPECT_EQ(looks, 0);
  std::vector<std::pair<uint64_t, uint64_t>> ranges{{0x1000, 0x3000}};
  EXPECT_FALSE(look_for_write_front(never, ranges).has_value());
  EXPECT_EQ(looks, 2);
  int second = 0;
  auto late = [&](std::span<const std::pair<uint64_t, uint64_t>>, uint64_t pages) -> std::optional<uint64_t> {
    EXPECT_EQ(pages, kWriteFrontPages);
    return ++second == 2 ? std::optional<uint64_t>(0x2000) : std::nullopt;
  };
  EXPECT_EQ(look_for_write_front(late, ranges), std::optional<uint64_t>(0x2000));
}

}  // namespace
}  // namespace snapdump::writer
