// split_at_held_edges: the MemoryInfoList's regions cut where the dump's ranges begin and end,
// each piece keeping what describes its allocation.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "snapdump/format/constants.h"
#include "writer/memory_info_list.h"

namespace snapdump::writer {
namespace {

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;

VmRegionInfo region(uint64_t base, uint64_t size, uint32_t protect = format::page::kReadWrite) {
  VmRegionInfo r;
  r.base = base;
  r.allocation_base = base;
  r.size = size;
  r.state = format::mem::kCommit;
  r.protect = protect;
  r.allocation_protect = protect;
  r.type = format::mem::kPrivate;
  return r;
}

Ranges bounds(const std::vector<VmRegionInfo>& pieces) {
  Ranges out;
  for (const VmRegionInfo& p : pieces) out.emplace_back(p.base, p.base + p.size);
  return out;
}

TEST(MemoryInfoSplit, ARangeInsideARegionCutsItInThree) {
  // An 8 MiB stack of which the top 3 pages are in the dump.
  std::vector<VmRegionInfo> regions = {region(0x10000, 0x800000)};
  auto pieces = split_at_held_edges(regions, Ranges{{0x7fd000, 0x800000}});
  EXPECT_EQ(bounds(pieces), (Ranges{{0x10000, 0x7fd000}, {0x7fd000, 0x800000}, {0x800000, 0x810000}}));
  for (const VmRegionInfo& p : pieces) {
    EXPECT_EQ(p.allocation_base, 0x10000u) << "the allocation is the region's, whatever the piece";
    EXPECT_EQ(p.allocation_protect, format::page::kReadWrite);
    EXPECT_EQ(p.protect, format::page::kReadWrite);
    EXPECT_EQ(p.state, format::mem::kCommit);
    EXPECT_EQ(p.type, format::mem::kPrivate);
  }
}

TEST(MemoryInfoSplit, EdgesOnRegionBoundariesCutNothing) {
  std::vector<VmRegionInfo> regions = {region(0x1000, 0x1000), region(0x2000, 0x2000, format::page::kReadOnly)};
  EXPECT_EQ(bounds(split_at_held_edges(regions, Ranges{{0x1000, 0x4000}})), (Ranges{{0x1000, 0x2000}, {0x2000, 0x4000}}));
  EXPECT_EQ(bounds(split_at_held_edges(regions, Ranges{})), (Ranges{{0x1000, 0x2000}, {0x2000, 0x4000}}));
}

TEST(MemoryInfoSplit, ARangeAcrossRegionsCutsTheFirstAtItsStartAndTheLastAtItsEnd) {
  // A module's .data and the anonymous .bss after it, written as one range from mid-page.
  VmRegionInfo data = region(0x5000, 0x2000, format::page::kWriteCopy);
  data.allocation_base = 0x1000;  // the module's load address
  data.allocation_protect = format::page::kExecuteRead;
  data.type = format::mem::kImage;
  std::vector<VmRegionInfo> regions = {data, region(0x7000, 0x3000)};
  auto pieces = split_at_held_edges(regions, Ranges{{0x5880, 0x8100}});
  EXPECT_EQ(bounds(pieces), (Ranges{{0x5000, 0x5880}, {0x5880, 0x7000}, {0x7000, 0x8100}, {0x8100, 0xa000}}));
  EXPECT_EQ(pieces[1].allocation_base, 0x1000u);
  EXPECT_EQ(pieces[1].allocation_protect, format::page::kExecuteRead);
  EXPECT_EQ(pieces[1].protect, format::page::kWriteCopy);
  EXPECT_EQ(pieces[1].type, format::mem::kImage);
  EXPECT_EQ(pieces[3].allocation_base, 0x7000u);
}

TEST(MemoryInfoSplit, OverlappingAndRepeatedRangesCutOncePerEdge) {
  // A full dump holds each stack twice: in the Memory64List (whole pages) and the MemoryList
  // (from 128 bytes below rsp), and several populated runs in one region.
  std::vector<VmRegionInfo> regions = {region(0x100000, 0x10000)};
  auto pieces = split_at_held_edges(regions, Ranges{{0x10c000, 0x110000}, {0x10cf80, 0x110000}, {0x102000, 0x104000},
                                                    {0x10c000, 0x110000}});
  EXPECT_EQ(bounds(pieces), (Ranges{{0x100000, 0x102000}, {0x102000, 0x104000}, {0x104000, 0x10c000},
                                    {0x10c000, 0x10cf80}, {0x10cf80, 0x110000}}));
}

TEST(MemoryInfoSplit, RangesOutsideEveryRegionAndGapsLeaveRegionsAlone) {
  std::vector<VmRegionInfo> regions = {region(0x1000, 0x1000), region(0x8000, 0x1000)};
  auto pieces = split_at_held_edges(regions, Ranges{{0x3000, 0x5000}, {0x0, 0x800}, {0x9000, 0xa000}});
  EXPECT_EQ(bounds(pieces), (Ranges{{0x1000, 0x2000}, {0x8000, 0x9000}}));
}

}  // namespace
}  // namespace snapdump::writer
