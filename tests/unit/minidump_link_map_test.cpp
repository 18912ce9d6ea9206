// The dynamic linker's list rebuilt for a core made of a small minidump (view/minidump_link_map.h):
// DT_DEBUG points at an r_debug whose link_map chain names every object, in a page range no
// mapping uses. (tests/integration/convert_test.cpp shows gdb finding the libraries through it.)
#include <elf.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "view/minidump_link_map.h"

namespace snapdump::view {
namespace {

template <class T>
T at(const std::vector<uint8_t>& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

Mapping mapping(uint64_t start, uint64_t end) {
  Mapping m;
  m.start = start;
  m.end = end;
  return m;
}

TEST(MinidumpLinkMap, DtDebugPointsAtAListOfEveryObjectInAFreeRange) {
  std::vector<Elf64_Dyn> dynamic{{DT_NEEDED, {1}}, {DT_DEBUG, {0}}, {DT_NULL, {0}}, {DT_DEBUG, {7}}};
  reader::DsoDebugView debug;
  debug.version = 1;
  debug.brk = 0x7f0000001000;
  debug.ldbase = 0x7f0000000000;
  debug.dynamic = 0x555500003000;
  debug.dynamic_section = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(dynamic.data()), dynamic.size() * sizeof(Elf64_Dyn));
  debug.objects = {{0x555500000000, 0x555500003000, ""}, {0x7f0000100000, 0x7f0000180000, "/lib/libc.so.6"}};
  // The lowest pages are taken: the list goes to the first gap big enough.
  std::vector<Mapping> maps{mapping(0x10000, 0x12000), mapping(0x13000, 0x20000), mapping(0x555500000000, 0x555500004000)};

  auto rebuilt = rebuild_link_map(debug, maps);
  ASSERT_TRUE(rebuilt.has_value());
  uint64_t base = rebuilt->list.address;
  EXPECT_EQ(base, 0x12000u);  // the one-page gap between the first two
  EXPECT_EQ(rebuilt->list_mapping.start, base);
  EXPECT_EQ(rebuilt->list_mapping.end, base + 4096);

  // DT_DEBUG (before DT_NULL) now names the list; what follows DT_NULL is left alone.
  EXPECT_EQ(rebuilt->dynamic.address, debug.dynamic);
  EXPECT_EQ(at<Elf64_Dyn>(rebuilt->dynamic.bytes, 16).d_un.d_ptr, base);
  EXPECT_EQ(at<Elf64_Dyn>(rebuilt->dynamic.bytes, 48).d_un.d_ptr, 7u);

  const auto& list = rebuilt->list.bytes;
  EXPECT_EQ(at<int32_t>(list, 0), 1);            // r_version
  uint64_t first = at<uint64_t>(list, 8);        // r_map
  EXPECT_EQ(at<uint64_t>(list, 16), debug.brk);  // r_brk
  EXPECT_EQ(at<uint64_t>(list, 32), debug.ldbase);
  ASSERT_EQ(first, base + 40);
  // link_map: l_addr, l_name, l_ld, l_next, l_prev
  uint64_t second = at<uint64_t>(list, first - base + 24);
  EXPECT_EQ(at<uint64_t>(list, first - base + 32), 0u);
  EXPECT_EQ(at<uint64_t>(list, second - base + 0), 0x7f0000100000u);
  EXPECT_EQ(at<uint64_t>(list, second - base + 16), 0x7f0000180000u);
  EXPECT_EQ(at<uint64_t>(list, second - base + 24), 0u);
  EXPECT_EQ(at<uint64_t>(list, second - base + 32), first);
  uint64_t name = at<uint64_t>(list, second - base + 8);
  EXPECT_STREQ(reinterpret_cast<const char*>(list.data() + (name - base)), "/lib/libc.so.6");
  EXPECT_STREQ(reinterpret_cast<const char*>(list.data() + (at<uint64_t>(list, first - base + 8) - base)), "");
}

TEST(MinidumpLinkMap, NothingToRebuildWithoutDtDebugOrObjects) {
  std::vector<Elf64_Dyn> dynamic{{DT_NEEDED, {1}}, {DT_NULL, {0}}};
  reader::DsoDebugView debug;
  debug.dynamic = 0x1000;
  debug.dynamic_section = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(dynamic.data()), dynamic.size() * sizeof(Elf64_Dyn));
  debug.objects = {{0, 0, "/bin/x"}};
  EXPECT_FALSE(rebuild_link_map(debug, {}).has_value());  // a static program: no DT_DEBUG
  debug.objects.clear();
  EXPECT_FALSE(rebuild_link_map(debug, {}).has_value());
}

}  // namespace
}  // namespace snapdump::view
