// Memory the kernel does not give a child (MADV_DONTFORK, as V8 marks its JavaScript heap) reaches
// the VA clone anyway: its flag is cleared for the fork and set again before the target resumes
// (src/linux/va_clone.cpp), so nothing is copied in the pause and no cap leaves any out. The
// target's state is as before: every region's VmFlags in /proc/PID/smaps are compared before the
// capture, while the snapshot lives, after it is freed, and after snapdump is killed at the step
// where the flags are cleared. MADV_WIPEONFORK memory is still copied in the pause: clearing that
// flag, should the tracer die in that moment, could hand a secret to a child of the target's.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/proc_state.h"
#include "support/stalled_cli.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using namespace std::chrono_literals;
using testing::TargetProcess;

using testing::vm_flags;

const nlohmann::json* mapping(const TargetProcess& target, const std::string& kind) {
  for (const auto& m : target.report()["mappings"]) {
    if (m["kind"] == kind) return &m;
  }
  return nullptr;
}

TEST(ForkFlags, DontForkMemoryIsInTheCloneAndTheTargetKeepsItsFlags) {
  // 96 MiB: more than the 64 MiB a pause used to copy at most, the rest then being left out.
  auto target = TargetProcess::spawn({"--mappings", "--dontfork-mib", "96"});
  auto before = vm_flags(target->pid());
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kVaSpace | capture::kThreads);
  EXPECT_EQ(vm_flags(target->pid()), before) << "while the snapshot lives";
  const nlohmann::json* large = mapping(*target, "dontfork_large");
  ASSERT_NE(large, nullptr);
  uint64_t start = testing::parse_address((*large)["start"]);
  uint64_t size = (*large)["size"].get<uint64_t>();
  uint64_t tag = testing::parse_address((*large)["tag"]);
  const Region* region = find_region(snap.regions(), start);
  ASSERT_NE(region, nullptr);
  EXPECT_TRUE(region->dont_fork);
  EXPECT_EQ(region->copy, RegionCopy::clone);
  std::vector<uint8_t> bytes(size);
  ReadSource source{};
  ASSERT_EQ(snap.read_memory(start, bytes, &source), size);
  EXPECT_EQ(source, ReadSource::clone);
  for (uint64_t off = 0; off < size; off += 4096 + 8) {
    uint64_t word;
    std::memcpy(&word, &bytes[off & ~7ull], 8);
    ASSERT_EQ(word, tag ^ (off & ~7ull)) << "offset " << off;
  }
  // The small regions of --mappings: DONTFORK in the clone, WIPEONFORK copied in the pause.
  const Region* dontfork = find_region(snap.regions(), testing::parse_address((*mapping(*target, "dontfork"))["start"]));
  const Region* wipe = find_region(snap.regions(), testing::parse_address((*mapping(*target, "wipeonfork"))["start"]));
  ASSERT_TRUE(dontfork && wipe);
  EXPECT_EQ(dontfork->copy, RegionCopy::clone);
  EXPECT_EQ(wipe->copy, RegionCopy::copied_in_pause);
  for (const auto* kind : {"dontfork", "wipeonfork"}) {
    const auto& m = *mapping(*target, kind);
    std::vector<uint8_t> small(m["size"].get<size_t>());
    ASSERT_EQ(snap.read_memory(testing::parse_address(m["start"]), small), small.size()) << kind;
    uint8_t fill = static_cast<uint8_t>(testing::parse_address(m["fill"]));
    EXPECT_TRUE(std::all_of(small.begin(), small.end(), [&](uint8_t b) { return b == fill; })) << kind;
  }
  // Nothing of the large region was copied in the pause.
  for (const AuxiliaryPage& page : snap.auxiliary_pages()) {
    EXPECT_FALSE(page.address < start + size && start < page.address + page.bytes.size());
  }
  snap.free();
  EXPECT_EQ(vm_flags(target->pid()), before) << "after free";
}

// snapdump killed while the flags are cleared: the tracer sets them again before anything else.
TEST(ForkFlags, SnapdumpKilledWhileTheFlagsAreClearedLeavesThemAsTheyWere) {
  auto target = TargetProcess::spawn({"--mappings", "--dontfork-mib", "8", "--dontfork-scatter", "12"});
  auto before = vm_flags(target->pid());
  testing::StalledCli cli({"snapshot", std::to_string(target->pid()), "--clone"}, "dontfork-cleared");
  ASSERT_TRUE(cli.wait_stalled("dontfork-cleared")) << cli.stderr_text();
  // The flags are cleared now: the stall is between the madvise calls and the fork.
  EXPECT_NE(vm_flags(target->pid()), before);
  pid_t tracer = cli.tracer();
  kill(cli.pid(), SIGKILL);
  cli.wait_exit(5s);
  EXPECT_TRUE(testing::wait_gone(tracer, 5s));
  EXPECT_EQ(vm_flags(target->pid()), before);
  EXPECT_TRUE(target->alive());
  EXPECT_EQ(testing::thread_states(target->pid()).find('t'), std::string::npos);
}

// V8's layout: DONTFORK regions with holes between them, which the capture clears and sets with
// one madvise() over each stretch that holds nothing else. A plain region and an unreadable
// DONTFORK one among them are mapped memory such a stretch must not take in: the plain one stays
// plain, the unreadable one stays out of the clone, and every region's VmFlags are as before.
TEST(ForkFlags, ScatteredDontForkRegionsAreAllInTheCloneAndNothingBetweenChanges) {
  auto target = TargetProcess::spawn({"--dontfork-scatter", "24"});
  auto before = vm_flags(target->pid());
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kVaSpace | capture::kThreads);
  EXPECT_EQ(vm_flags(target->pid()), before) << "while the snapshot lives";
  std::ifstream maps_file("/proc/" + std::to_string(*snap.va_clone_pid()) + "/maps");
  std::string clone_maps((std::istreambuf_iterator<char>(maps_file)), std::istreambuf_iterator<char>());
  auto in_clone = [&](uint64_t start) { return clone_maps.find(fmt::format("{:x}-", start)) != std::string::npos; };
  int scattered = 0;
  for (const auto& m : target->report()["mappings"]) {
    std::string kind = m["kind"];
    if (kind.rfind("scatter_", 0) != 0) continue;
    uint64_t start = testing::parse_address(m["start"]);
    size_t size = m["size"].get<size_t>();
    const Region* region = find_region(snap.regions(), start);
    ASSERT_NE(region, nullptr) << kind;
    if (kind == "scatter_none") {
      EXPECT_TRUE(region->dont_fork);
      EXPECT_FALSE(in_clone(start)) << "an unreadable DONTFORK region between the runs went into the clone";
      continue;
    }
    EXPECT_EQ(region->dont_fork, kind == "scatter_dontfork") << kind;
    EXPECT_EQ(region->copy, RegionCopy::clone) << kind;
    EXPECT_TRUE(in_clone(start)) << kind << " at " << std::hex << start;
    std::vector<uint8_t> bytes(size);
    ReadSource source{};
    ASSERT_EQ(snap.read_memory(start, bytes, &source), size) << kind;
    EXPECT_EQ(source, ReadSource::clone);
    uint8_t fill = static_cast<uint8_t>(testing::parse_address(m["fill"]));
    EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [&](uint8_t b) { return b == fill; })) << kind;
    scattered += kind == "scatter_dontfork";
  }
  EXPECT_EQ(scattered, 22);
  EXPECT_TRUE(snap.auxiliary_pages().empty()) << "nothing is copied in the pause";
  snap.free();
  EXPECT_EQ(vm_flags(target->pid()), before) << "after free";
}

// A full dump holds every byte of DONTFORK memory, from the clone.
TEST(ForkFlags, AFullDumpHoldsDontForkMemory) {
  auto target = TargetProcess::spawn({"--dontfork-mib", "80"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  std::string path = testing::temp_dump_path("dontfork_full");
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  write_minidump(snap, path, options);
  const auto& m = *mapping(*target, "dontfork_large");
  uint64_t start = testing::parse_address(m["start"]), size = m["size"].get<uint64_t>();
  uint64_t tag = testing::parse_address(m["tag"]);
  auto d = reader::Minidump::open(path);
  std::vector<uint8_t> bytes(size);
  ASSERT_EQ(d.read_memory(start, bytes), size);
  for (uint64_t off = 0; off < size; off += 8) {
    uint64_t word;
    std::memcpy(&word, &bytes[off], 8);
    ASSERT_EQ(word, tag ^ off) << "offset " << off;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace snapdump
