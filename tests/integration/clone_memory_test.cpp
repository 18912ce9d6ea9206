// Reading the VA clone must not cost memory: its pages stay shared with the target. (Reading it
// with process_vm_readv would not: the kernel unshares every copy-on-write page it pins, so a
// full dump would double the target's memory while it is written.)
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/snapshot.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

// Private_Clean + Private_Dirty of smaps_rollup, in KiB: the pages the process does not share.
// (An unshared copy counts as clean: it was never written.)
uint64_t private_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  uint64_t total = 0, value = 0;
  while (in >> key) {
    if (key == "Private_Dirty:" || key == "Private_Clean:") {
      in >> value;
      total += value;
    }
    std::getline(in, key);
  }
  return total;
}

TEST(CloneMemory, ReadingTheWholeHeapKeepsItShared) {
  auto target = testing::TargetProcess::spawn({"--heap-mib", "64"});
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  uint64_t size = testing::parse_address(target->report()["heap"]["size"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture::kThreads | capture::kVaClone);
  pid_t clone = *snap.va_clone_pid();
  uint64_t before = private_kib(clone);
  std::vector<uint8_t> chunk(4 << 20);
  uint64_t read = 0;
  for (uint64_t at = heap; at < heap + size; at += chunk.size()) {
    read += snap.read_memory(at, std::span(chunk.data(), std::min<uint64_t>(chunk.size(), heap + size - at)));
  }
  ASSERT_EQ(read, size);
  uint64_t after = private_kib(clone);
  EXPECT_LT(after, before + 4096) << "reading 64 MiB through the clone made " << (after - before)
                                  << " KiB of it private to the clone";
}

// Rss of smaps_rollup, in KiB: every page the process maps, shared or not.
uint64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  uint64_t value = 0;
  while (in >> key) {
    if (key == "Rss:" && in >> value) return value;
    std::getline(in, key);
  }
  return 0;
}

// Once a dump has written a range, the clone can let go of it (Snapshot::release_memory): it then
// maps none of those pages, so the target's next write to them finds them its own and copies
// nothing, and the clone ends up owning none of the old bytes. Without the release, the same
// rewrite copies every page and the clone keeps the old ones (the copy the target paid for).
// The released bytes are gone: a read there fails, it never gives zeros.
TEST(CloneMemory, ReleasedRangesLeaveTheCloneNothingForTheTargetToCopy) {
  for (bool release : {false, true}) {
    auto target = testing::TargetProcess::spawn({"--heap-mib", "64"});
    uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
    uint64_t size = testing::parse_address(target->report()["heap"]["size"]);
    Snapshot snap = Snapshot::capture(target->pid(), capture::kThreads | capture::kVaClone);
    pid_t clone = *snap.va_clone_pid();
    uint64_t mapped_before = rss_kib(clone);
    if (release) {
      snap.release_memory(heap, heap + size);  // 64 MiB: over the 32 MiB batch, sent at once
      snap.check_intact();                     // the tracer answers in order: the drop is done
      std::vector<uint8_t> bytes(16);
      EXPECT_EQ(snap.read_memory(heap, std::span(bytes.data(), 8)), 0u) << "released bytes must not read";
      EXPECT_EQ(snap.read_memory(heap - 8, bytes), 8u) << "a read that runs into them stops there";
      EXPECT_LT(rss_kib(clone), mapped_before - size / 1024 * 9 / 10) << "the clone still maps the heap";
    }
    target->command("overwrite-heap");
    uint64_t owned = private_kib(clone);
    if (release) {
      EXPECT_LT(owned, 4096u) << "the clone owns " << owned << " KiB: the target copied pages for it";
    } else {
      EXPECT_GE(owned, size / 1024 * 9 / 10) << "the control clone should own the old heap";
    }
  }
}

}  // namespace
}  // namespace snapdump
