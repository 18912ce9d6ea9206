// Reading the VA clone must not cost memory: its pages stay shared with the target. (Reading it
// with process_vm_readv would not: the kernel unshares every copy-on-write page it pins, so a
// full dump would double the target's memory while it is written.)
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/read_dump.h"
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
      // All but the heap's first page (64 MiB less 4 KiB: over the 32 MiB batch, sent at once).
      // The kept page gives the read below bytes of its own to stop after: what lies before the
      // heap may be a gap, so it cannot be the one.
      uint64_t released = heap + 4096;
      snap.release_memory(released, heap + size);
      snap.check_intact();  // the tracer answers in order: the drop is done
      std::vector<uint8_t> bytes(16);
      EXPECT_EQ(snap.read_memory(released, std::span(bytes.data(), 8)), 0u) << "released bytes must not read";
      EXPECT_EQ(snap.read_memory(released - 8, bytes), 8u) << "a read that runs into them stops there";
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

// A full dump that lets the clone drop what it has written (release_written_memory, what the
// CLI does) holds exactly what one that keeps it holds; afterwards the clone maps next to
// nothing, and the snapshot refuses a further full dump instead of writing one with holes.
TEST(CloneMemory, ADumpThatReleasesWhatItWroteIsTheSameDump) {
  auto target = testing::TargetProcess::spawn({"--heap-mib", "96"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  pid_t clone = *snap.va_clone_pid();
  std::string kept_path = testing::temp_dump_path("kept_clone_memory");
  std::string released_path = testing::temp_dump_path("released_clone_memory");
  std::remove(kept_path.c_str());
  std::remove(released_path.c_str());
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  write_minidump(snap, kept_path, options);
  uint64_t mapped = rss_kib(clone);
  options.release_written_memory = true;
  write_minidump(snap, released_path, options);
  snap.check_intact();  // the tracer has handled every drop once it answers
  EXPECT_LT(rss_kib(clone), mapped / 4) << "the clone still maps " << rss_kib(clone) << " of " << mapped << " KiB";
  // The same bytes at the same addresses (a release may start from the target's write front,
  // which cuts one range in two: WriteFront.*).
  EXPECT_EQ(testing::memory_difference(testing::read_dump(kept_path), testing::read_dump(released_path)), "");
  try {
    write_minidump(snap, testing::temp_dump_path("third"), options);
    ADD_FAILURE() << "a third full dump was written from a clone that let go of its memory";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("capture again"), std::string::npos) << e.what();
  }
  std::remove(kept_path.c_str());
  std::remove(released_path.c_str());
}

}  // namespace
}  // namespace snapdump
