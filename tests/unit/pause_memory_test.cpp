// linux/pause_memory.h: the pause's allocations are carved from memory prepared before the stop,
// and whatever does not fit, or comes before prepare(), goes to the upstream resource and back.
#include "linux/pause_memory.h"

#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <vector>

#include <gtest/gtest.h>

namespace snapdump::os {
namespace {

// Counts what reaches upstream, and checks every block comes back with its own size.
class CountingResource final : public std::pmr::memory_resource {
 public:
  size_t allocations = 0, outstanding = 0;

 private:
  void* do_allocate(size_t bytes, size_t alignment) override {
    ++allocations;
    outstanding += bytes;
    return std::pmr::new_delete_resource()->allocate(bytes, alignment);
  }
  void do_deallocate(void* p, size_t bytes, size_t alignment) override {
    outstanding -= bytes;
    std::pmr::new_delete_resource()->deallocate(p, bytes, alignment);
  }
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }
};

TEST(PauseMemory, CarvesFromThePreparedPagesThenFallsBackUpstream) {
  CountingResource upstream;
  {
    PauseMemory memory(&upstream);
    void* early = memory.allocate(100, 8);  // before prepare: upstream's
    EXPECT_EQ(upstream.allocations, 1u);
    ASSERT_EQ(memory.prepare(10000), 12288u);  // whole pages
    EXPECT_EQ(memory.prepare(1 << 20), 12288u);  // once
    auto* a = static_cast<uint8_t*>(memory.allocate(3000, 1));
    auto* b = static_cast<uint8_t*>(memory.allocate(64, 64));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b) % 64, 0u);
    EXPECT_GE(b, a + 3000);
    std::memset(a, 0xAB, 3000);  // the prepared pages are writable
    std::memset(b, 0xCD, 64);
    EXPECT_EQ(upstream.allocations, 1u);
    void* big = memory.allocate(20000, 16);  // does not fit: upstream's
    EXPECT_EQ(upstream.allocations, 2u);
    memory.deallocate(a, 3000, 1);  // carved: nothing reaches upstream
    memory.deallocate(big, 20000, 16);
    memory.deallocate(early, 100, 8);
    EXPECT_EQ(upstream.outstanding, 0u);
  }
  EXPECT_EQ(upstream.outstanding, 0u);
}

TEST(PauseMemory, ContainersUseItAndFreeCleanly) {
  CountingResource upstream;
  {
    PauseMemory memory(&upstream);
    memory.prepare(64 << 10);
    std::pmr::vector<uint64_t> v(&memory);
    for (uint64_t i = 0; i < 1000; ++i) v.push_back(i * 3);  // grows inside the prepared pages
    EXPECT_EQ(upstream.allocations, 0u);
    for (uint64_t i = 0; i < 1000; ++i) ASSERT_EQ(v[i], i * 3);
    std::pmr::vector<uint8_t> large(1 << 20, 7, &memory);  // beyond: upstream
    EXPECT_EQ(upstream.allocations, 1u);
  }
  EXPECT_EQ(upstream.outstanding, 0u);
}

TEST(PauseMemory, NothingPreparedMeansEverythingIsUpstreams) {
  CountingResource upstream;
  PauseMemory memory(&upstream);
  EXPECT_EQ(memory.prepare(0), 0u);
  void* p = memory.allocate(32, 8);
  EXPECT_EQ(upstream.allocations, 1u);
  memory.deallocate(p, 32, 8);
  EXPECT_EQ(upstream.outstanding, 0u);
}

}  // namespace
}  // namespace snapdump::os
