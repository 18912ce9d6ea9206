// A full dump that releases what it wrote starts where a sequential writer writes now
// (Snapshot::write_front, DumpOptions::follow_write_front): the dump then runs ahead of the
// writer, which only reaches pages the clone has already let go of. The Memory64List lists its
// ranges in that order; the tests prove the dump holds the same bytes as one in address order,
// and that LLDB and Breakpad read it.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/core.h"
#include "snapdump/dump_callbacks.h"
#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/core_readers.h"
#include "support/external_readers.h"
#include "support/file_bytes.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

// The Memory64List's descriptors in file order.
std::vector<format::MemoryDescriptor64> memory64_descriptors(const reader::Minidump& dump) {
  auto bytes = dump.stream(static_cast<uint32_t>(format::StreamType::Memory64List));
  std::vector<format::MemoryDescriptor64> out;
  if (!bytes || bytes->size() < sizeof(format::Memory64ListHeader)) return out;
  format::Memory64ListHeader h{};
  std::memcpy(&h, bytes->data(), sizeof h);
  for (uint64_t i = 0; i < h.number_of_memory_ranges; ++i) {
    size_t at = sizeof h + i * sizeof(format::MemoryDescriptor64);
    if (at + sizeof(format::MemoryDescriptor64) > bytes->size()) break;
    format::MemoryDescriptor64 d{};
    std::memcpy(&d, bytes->data() + at, sizeof d);
    out.push_back(d);
  }
  return out;
}

// Two fresh paths for the dumps a test compares.
std::pair<std::string, std::string> two_paths(const std::string& suffix) {
  std::pair<std::string, std::string> paths{testing::temp_dump_path("write_front_in_order" + suffix),
                                            testing::temp_dump_path("write_front_from_front" + suffix)};
  std::remove(paths.first.c_str());
  std::remove(paths.second.c_str());
  return paths;
}

// Has the target write the first 8 MiB of its --sweep-mib region in sequence, so that it now
// writes at their end; returns that address.
uint64_t sweep_8_mib(testing::TargetProcess& target) {
  auto swept = target.command("sweep 2048");
  EXPECT_TRUE(swept.value("ok", false)) << swept.dump();
  uint64_t front = testing::parse_address(swept["end"]);
  EXPECT_EQ(front, testing::parse_address(target.report()["sweep"]["addr"]) + (uint64_t{2048} << 12));
  return front;
}

std::string hex(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(value));
  return text;
}

TEST(WriteFront, AFullDumpStartsWhereTheTargetWritesInSequenceAndHoldsTheSameBytes) {
  auto target = testing::TargetProcess::spawn({"--heap-mib", "16", "--sweep-mib", "32"});
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  auto [in_order, from_front] = two_paths("");
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo;
  // Without release_written_memory the order gains nothing: address order.
  DumpResult kept = write_minidump(snap, in_order, options);
  EXPECT_EQ(kept.write_front, 0u);
  uint64_t front = sweep_8_mib(*target);
  options.release_written_memory = true;
  DumpResult released = write_minidump(snap, from_front, options);
  EXPECT_EQ(released.write_front, front) << "the trail ends at " << std::hex << front;
  EXPECT_EQ(released.memory_bytes, kept.memory_bytes);

  auto a = testing::read_dump(in_order);
  auto b = testing::read_dump(from_front);  // the memory-map rules hold in that order too
  EXPECT_TRUE(b.problems().empty()) << b.problems().front();
  // The file lists the ranges from the front round to the lowest address.
  auto descriptors = memory64_descriptors(b);
  ASSERT_FALSE(descriptors.empty());
  EXPECT_EQ(descriptors.front().start_of_memory_range, released.write_front);
  auto plain = memory64_descriptors(a);
  for (size_t i = 1; i < plain.size(); ++i) ASSERT_LT(plain[i - 1].start_of_memory_range, plain[i].start_of_memory_range);
  // The same bytes either way (the one range the front cut in two is two ranges here).
  EXPECT_EQ(testing::memory_difference(a, b), "");

  // Outside readers: LLDB reads the heap (written after the front, at the file's end, when the
  // heap lies below the sweep region) and the first bytes written; Breakpad walks every thread.
  auto lldb = testing::lldb_batch(from_front, {"memory read --format x --size 8 --count 1 " + hex(heap + 8 * 1000),
                                               "memory read --format x --size 8 --count 1 " + hex(released.write_front)});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  EXPECT_NE(lldb.out.find(hex(testing::expected_heap_word(8 * 1000))), std::string::npos) << lldb.out;
  auto walk = testing::run_minidump_stackwalk(from_front);
  ASSERT_TRUE(walk.ok) << walk.raw << walk.err;
  EXPECT_EQ(walk.thread_frames.size(), snap.threads().size()) << walk.raw;
  auto breakpad = testing::run_minidump_dump(from_front);
  EXPECT_TRUE(breakpad.ok) << breakpad.err;
  std::filesystem::remove(in_order);
  std::filesystem::remove(from_front);
}

// The target starts writing only once the dump has begun (here, when the memory pass reads the
// first bytes of its sweep region): the plan saw no trail, and a file looks again after 32 MiB. The trail is ahead
// of the dump (64 to 72 MiB into a 128 MiB region the dump reaches from below), so the rest is
// written from its end round to where the dump stood. The released pages behind the dump, the
// target's alone again, are not taken for a trail.
TEST(WriteFront, AFileLooksAgainOnceWritingHasBegun) {
  auto target = testing::TargetProcess::spawn({"--heap-mib", "8", "--sweep-mib", "128"});
  uint64_t sweep = testing::parse_address(target->report()["sweep"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  struct StartWriting : DumpCallbacks {
    testing::TargetProcess* target = nullptr;
    uint64_t region = 0, end = 0;
    bool vm_start() override { return true; }
    // (The MemoryList's stacks are read before the plan: not those.)
    VmReadAnswer vm_post_read(uint64_t address, std::span<uint8_t>, size_t completed, int error) override {
      if (end == 0 && address == region) end = testing::parse_address(target->command("sweep 2048 16384")["end"]);
      return {error, completed};
    }
  } callbacks;
  callbacks.target = target.get();
  callbacks.region = sweep;
  std::string path = testing::temp_dump_path("write_front_later");
  std::remove(path.c_str());
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  options.release_written_memory = true;
  options.callbacks = &callbacks;
  DumpResult result = write_minidump(snap, path, options);
  ASSERT_EQ(callbacks.end, sweep + (uint64_t{16384 + 2048} << 12));
  EXPECT_EQ(result.write_front, callbacks.end);
  auto dump = testing::read_dump(path);
  auto descriptors = memory64_descriptors(dump);
  bool follows = false;
  for (size_t i = 1; i < descriptors.size(); ++i) {
    follows |= descriptors[i].start_of_memory_range == callbacks.end &&
               descriptors[i - 1].start_of_memory_range < callbacks.end - (uint64_t{32} << 20);
  }
  std::string listed;
  for (const auto& d : descriptors) listed += " " + hex(d.start_of_memory_range) + "+" + hex(d.data_size);
  EXPECT_TRUE(follows) << "no range at the front right after the first 32 MiB:" << listed << " front " << hex(callbacks.end);
  std::filesystem::remove(path);
}

// An ELF core written from the front is the same file, byte for byte, as one written in address
// order from the same snapshot: each segment's bytes still lie where its p_offset says, and the
// pages never touched are still holes. gdb walks its threads.
TEST(WriteFront, ACoreWrittenFromTheFrontIsTheSameFile) {
  auto target = testing::TargetProcess::spawn({"--heap-mib", "16", "--sweep-mib", "32"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for_core() | capture::kVaClone);
  auto [in_order, from_front] = two_paths(".core");
  CoreOptions options;
  CoreResult kept = write_core(snap, in_order, options);
  EXPECT_EQ(kept.write_front, 0u);
  uint64_t front = sweep_8_mib(*target);
  options.release_written_memory = true;
  CoreResult released = write_core(snap, from_front, options);
  EXPECT_EQ(released.write_front, front);
  EXPECT_EQ(released.bytes, kept.bytes);
  EXPECT_EQ(released.hole_bytes, kept.hole_bytes);
  EXPECT_EQ(released.memory_bytes, kept.memory_bytes);
  std::vector<uint8_t> a = testing::file_bytes(in_order), b = testing::file_bytes(from_front);
  ASSERT_EQ(a.size(), b.size());
  size_t differ = 0;
  while (differ < a.size() && a[differ] == b[differ]) ++differ;
  EXPECT_EQ(differ, a.size()) << "the cores differ first at file offset " << differ;
  auto gdb = testing::gdb_backtraces(target->report()["exe"].get<std::string>(), from_front);
  EXPECT_EQ(testing::tids_of(gdb.threads), testing::report_tids(*target)) << gdb.run.out << gdb.run.err;
  std::filesystem::remove(in_order);
  std::filesystem::remove(from_front);
}

TEST(WriteFront, AddressOrderWhenAskedOrWhenNothingWritesInSequence) {
  // Asked: follow_write_front false keeps address order even with a sequential writer.
  {
    auto target = testing::TargetProcess::spawn({"--heap-mib", "8", "--sweep-mib", "32"});
    Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
    sweep_8_mib(*target);
    std::string path = testing::temp_dump_path("write_front_asked");
    std::remove(path.c_str());
    DumpOptions options;
    options.type = dump::kWithFullMemory;
    options.release_written_memory = true;
    options.follow_write_front = false;
    EXPECT_EQ(write_minidump(snap, path, options).write_front, 0u);
    auto d = memory64_descriptors(reader::Minidump::open(path));
    for (size_t i = 1; i < d.size(); ++i) ASSERT_LT(d[i - 1].start_of_memory_range, d[i].start_of_memory_range);
    std::filesystem::remove(path);
  }
  // A target whose threads all sleep writes no trail.
  {
    auto target = testing::TargetProcess::spawn({"--heap-mib", "8"});
    Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
    std::string path = testing::temp_dump_path("write_front_idle");
    std::remove(path.c_str());
    DumpOptions options;
    options.type = dump::kWithFullMemory;
    options.release_written_memory = true;
    EXPECT_EQ(write_minidump(snap, path, options).write_front, 0u);
    std::filesystem::remove(path);
  }
  // Without a clone (the target held) there is no front to follow.
  {
    auto target = testing::TargetProcess::spawn({"--heap-mib", "8", "--sweep-mib", "32"});
    CaptureOptions hold;
    hold.hold = true;
    Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory), context::kAll, hold);
    // (The target is stopped: it cannot write, and the command would wait for it.)
    std::vector<std::pair<uint64_t, uint64_t>> everything{{0, uint64_t{1} << 47}};
    EXPECT_FALSE(snap.write_front(everything, 1).has_value());
  }
}

}  // namespace
}  // namespace snapdump
