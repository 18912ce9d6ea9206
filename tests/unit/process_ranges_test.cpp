// linux/process_memory.h read_process_ranges: many ranges of another process read in batches,
// with what a batch could not read finished range by range, as read_process_memory would.
#include "linux/process_memory.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace snapdump::os {
namespace {

constexpr size_t kPage = 4096;

// A child holding a copy of `pages` pages of memory whose byte i of page p is (p * 7 + i) & 0xff,
// with page `hole` made unreadable before the fork. The parent then overwrites its own copy, so
// only the child's bytes can give the pattern back.
class Child {
 public:
  Child(size_t pages, size_t hole) : pages_(pages) {
    base_ = static_cast<uint8_t*>(mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base_, MAP_FAILED);
    for (size_t p = 0; p < pages; ++p) {
      for (size_t i = 0; i < kPage; ++i) base_[p * kPage + i] = static_cast<uint8_t>((p * 7 + i) & 0xff);
    }
    EXPECT_EQ(mprotect(base_ + hole * kPage, kPage, PROT_NONE), 0);
    pid_ = fork();
    if (pid_ == 0) {
      for (;;) pause();
    }
    for (size_t p = 0; p < pages; ++p) {
      if (p != hole) std::memset(base_ + p * kPage, 0xEE, kPage);
    }
  }
  ~Child() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    munmap(base_, pages_ * kPage);
  }
  pid_t pid() const { return pid_; }
  uint64_t at(size_t page, size_t offset = 0) const { return reinterpret_cast<uint64_t>(base_) + page * kPage + offset; }
  static uint8_t expected(size_t page, size_t offset) { return static_cast<uint8_t>((page * 7 + offset) & 0xff); }

 private:
  size_t pages_;
  uint8_t* base_ = nullptr;
  pid_t pid_ = -1;
};

bool holds_pattern(const std::vector<uint8_t>& bytes, size_t got, size_t page, size_t offset) {
  for (size_t k = 0; k < got; ++k) {
    size_t o = offset + k;
    if (bytes[k] != Child::expected(page + o / kPage, o % kPage)) return false;
  }
  return true;
}

TEST(ReadProcessRanges, ReadsManyRangesOfAnotherProcessAcrossBatches) {
  Child child(160, 159);
  // 150 ranges (three batches of at most 64), each 100 bytes at a different place.
  std::vector<std::vector<uint8_t>> out(150, std::vector<uint8_t>(100));
  std::vector<RangeRead> reads;
  for (size_t k = 0; k < out.size(); ++k) reads.push_back({child.at(k, 17 * k % 3000), out[k], 0});
  read_process_ranges(child.pid(), reads);
  for (size_t k = 0; k < out.size(); ++k) {
    ASSERT_EQ(reads[k].got, 100u) << "range " << k;
    EXPECT_TRUE(holds_pattern(out[k], 100, k, 17 * k % 3000)) << "range " << k;
  }
}

// An unreadable page in the middle of one range: its readable prefix is kept, a range wholly on
// the unreadable page reads nothing, and the ranges after both are still read whole.
TEST(ReadProcessRanges, AnUnreadablePageCostsOnlyWhatLiesOnIt) {
  Child child(8, 4);
  std::vector<uint8_t> before(2 * kPage), into_hole(2 * kPage), on_hole(100), after(3 * kPage), empty;
  std::vector<RangeRead> reads = {
      {child.at(0, 10), before, 0},      // pages 0-2, readable
      {child.at(3, 96), into_hole, 0},   // starts on page 3, runs into page 4
      {child.at(4, 8), on_hole, 0},      // on page 4 only
      {child.at(5, 0), after, 0},        // pages 5-7
      {child.at(7, 0), empty, 0},        // nothing asked, nothing read
  };
  read_process_ranges(child.pid(), reads);
  EXPECT_EQ(reads[0].got, before.size());
  EXPECT_TRUE(holds_pattern(before, reads[0].got, 0, 10));
  EXPECT_EQ(reads[1].got, kPage - 96);
  EXPECT_TRUE(holds_pattern(into_hole, reads[1].got, 3, 96));
  EXPECT_EQ(reads[2].got, 0u);
  EXPECT_EQ(reads[3].got, after.size());
  EXPECT_TRUE(holds_pattern(after, reads[3].got, 5, 0));
  EXPECT_EQ(reads[4].got, 0u);
}

TEST(ReadProcessRanges, AProcessThatIsGoneReadsNothing) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);
  std::vector<uint8_t> a(64), b(64);
  uint64_t address = reinterpret_cast<uint64_t>(a.data());
  std::vector<RangeRead> reads = {{address, a, 7}, {address, b, 7}};
  read_process_ranges(pid, reads);
  EXPECT_EQ(reads[0].got, 0u);
  EXPECT_EQ(reads[1].got, 0u);
}

}  // namespace
}  // namespace snapdump::os
