// Captures of real target processes, checked against what the targets say they set up.
#include <span>
#include <string_view>
#include <elf.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/proc_state.h"
#include "support/hex.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing_support = snapdump::testing::TargetProcess;

constexpr CaptureFlags kEverything =
    capture::kHandles | capture::kHandleNameInformation | capture::kHandleBasicInformation |
    capture::kHandleTypeSpecificInformation | capture::kThreads | capture::kThreadContext |
    capture::kThreadContextExtended | capture::kVaSpace | capture::kVaSpaceSectionInformation |
    capture::kCreateMeasurePerformance;

uint64_t addr(const nlohmann::json& v) {
  if (v.is_string()) return std::stoull(v.get<std::string>(), nullptr, 0);
  return v.get<uint64_t>();
}

const ThreadEntry* find_thread(const Snapshot& s, pid_t tid) {
  for (const ThreadEntry& t : s.threads()) {
    if (t.tid == tid) return &t;
  }
  return nullptr;
}

// True if `function` (start address) is on the thread's call stack: rip inside it, or a return
// address into it among the stack words the snapshot holds.
bool function_on_stack(const Snapshot& s, const ThreadEntry& t, uint64_t function) {
  auto inside = [&](uint64_t pc) { return pc >= function && pc < function + 1024; };
  if (inside(t.regs.rip)) return true;
  std::vector<uint8_t> stack(64 * 1024);
  size_t got = s.read_memory(t.regs.rsp, stack);
  for (size_t i = 0; i + 8 <= got; i += 8) {
    uint64_t word;
    std::memcpy(&word, &stack[i], 8);
    if (inside(word)) return true;
  }
  return false;
}

std::string readelf_build_id(std::string_view path) {
  std::string cmd = "readelf -n '" + std::string(path) + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "";
  char line[512];
  std::string id;
  while (fgets(line, sizeof line, p)) {
    const char* at = std::strstr(line, "Build ID: ");
    if (at) {
      id = at + 10;
      while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
    }
  }
  pclose(p);
  return id;
}

// The writer's module list does not depend on kVaSpaceSectionInformation (nor on kVaSpace):
// a clone capture with threads only still gives every module its file's build-id, while
// regions() shows ELF identities only when section information was asked for.
TEST(CaptureModules, ACloneWithoutSectionInformationStillDumpsTheBuildIds) {
  auto target = testing_support::spawn({"--libs"});
  Snapshot snap = Snapshot::capture(target->pid(), capture::kThreads | capture::kThreadContext | capture::kVaClone);
  EXPECT_THROW(snap.regions(), Error);  // no kVaSpace: not captured
  std::string path = snapdump::testing::temp_dump_path("modules-no-section-info");
  write_minidump(snap, path, {});
  auto modules = testing::read_dump(path).modules();
  std::filesystem::remove(path);
  int checked = 0;
  bool exe = false;
  for (const auto& m : modules) {
    exe |= m.name == snapdump::testing::target_path();
    if (m.name.empty() || m.name[0] != '/') continue;
    std::string expected = readelf_build_id(m.name);
    if (expected.empty()) continue;
    EXPECT_EQ(snapdump::testing::to_hex(m.build_id), expected) << m.name;
    ++checked;
  }
  EXPECT_TRUE(exe);
  EXPECT_GE(checked, 3);  // the target, its plugin, libc at least

  Snapshot va = Snapshot::capture(target->pid(), capture::kVaSpace);
  EXPECT_TRUE(std::none_of(va.regions().begin(), va.regions().end(), [](const Region& r) { return r.elf.has_value(); }));
  EXPECT_TRUE(std::any_of(va.memory_map().begin(), va.memory_map().end(),
                          [](const Region& r) { return r.elf.has_value(); }));
}

class CaptureTest : public ::testing::TestWithParam<bool> {};

TEST_P(CaptureTest, EveryThreadWithItsNameAndFunction) {
  bool clone = GetParam();
  auto target = testing_support::spawn({"--all", "--heap-mib", "4"});
  Snapshot snap = Snapshot::capture(target->pid(), kEverything | (clone ? capture::kVaClone : 0));
  EXPECT_EQ(snap.memory_mode(), clone ? MemoryMode::clone : MemoryMode::auxiliary_pages);
  const auto& report = target->report();
  ASSERT_GE(report["threads"].size(), 8u);
  for (const auto& rt : report["threads"]) {
    pid_t tid = rt["tid"].get<pid_t>();
    const ThreadEntry* t = find_thread(snap, tid);
    ASSERT_NE(t, nullptr) << "thread " << tid << " missing";
    EXPECT_EQ(std::string(t->name), rt["name"].get<std::string>());
    EXPECT_EQ(t->capture, ThreadCapture::stopped);
    EXPECT_EQ(t->context_flags & context::kAll, context::kAll);
    EXPECT_FALSE(t->xsave.empty());
    EXPECT_LE(t->stack_limit, t->regs.rsp);
    EXPECT_GT(t->stack_base, t->regs.rsp);
    if (!rt.contains("function") || rt["function"].is_null()) continue;
    std::string fn = rt["function"].get<std::string>();
    if (!report["functions"].contains(fn)) continue;
    uint64_t start = addr(report["functions"][fn]);
    EXPECT_TRUE(function_on_stack(snap, *t, start)) << t->name << " not in " << fn;
  }
  EXPECT_EQ(snap.threads().size(), report["threads"].size());
}

TEST_P(CaptureTest, AvxRegistersHoldTheTargetsValues) {
  auto target = testing_support::spawn({"--avx"});
  if (!target->report()["avx"].value("enabled", false)) GTEST_SKIP() << "CPU without AVX";
  Snapshot snap = Snapshot::capture(target->pid(), capture::kThreads | capture::kThreadContext |
                                                       capture::kThreadContextExtended |
                                                       (GetParam() ? capture::kVaClone : 0));
  const ThreadEntry* avx = nullptr;
  for (const ThreadEntry& t : snap.threads()) {
    if (t.name == "sd-avx") avx = &t;
  }
  ASSERT_NE(avx, nullptr);
  ASSERT_GE(avx->xsave.size(), 576u + 4 * 16);
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 32; ++i) {
      uint8_t expected = static_cast<uint8_t>((k * 32 + i) ^ 0x5A);
      // XMM k lives in the legacy FXSAVE area at 160; the upper half of YMM k in the AVX
      // component at 576 (the standard, non-compacted layout PTRACE_GETREGSET returns).
      uint8_t got = i < 16 ? avx->xsave[160 + 16 * k + i] : avx->xsave[576 + 16 * k + (i - 16)];
      EXPECT_EQ(got, expected) << "ymm" << k << " byte " << i;
      if (i < 16) {
        const auto* xmm = reinterpret_cast<const uint8_t*>(avx->fpregs.xmm_space);
        EXPECT_EQ(xmm[16 * k + i], expected) << "xmm" << k << " byte " << i << " (FXSAVE)";
      }
    }
  }
}

TEST_P(CaptureTest, ModulesCarryTheBuildIdOfTheirFile) {
  auto target = testing_support::spawn({"--libs"});
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaSpace | capture::kVaSpaceSectionInformation |
                                                       (GetParam() ? capture::kVaClone : 0));
  int checked = 0;
  for (const Region& r : snap.regions()) {
    if (!r.elf || r.path.empty() || r.path[0] != '/') continue;
    std::string expected = readelf_build_id(r.path);
    if (expected.empty()) continue;
    EXPECT_EQ(snapdump::testing::to_hex(r.elf->build_id), expected) << r.path;
    EXPECT_EQ(r.type, RegionType::image);
    EXPECT_EQ(r.elf->load_address, r.start);
    ++checked;
  }
  EXPECT_GE(checked, 3);  // the target, its plugin, libc at least
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutClone, CaptureTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Clone" : "AuxiliaryPages"; });

TEST(CloneCapture, HeapReadsArePointInTimeAfterTheTargetOverwritesIt) {
  auto target = testing_support::spawn({"--heap-mib", "8"});
  uint64_t heap = addr(target->report()["heap"]["addr"]);
  uint64_t size = addr(target->report()["heap"]["size"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kVaSpace);
  ASSERT_TRUE(snap.va_clone_pid().has_value());
  target->command("overwrite-heap");
  std::vector<uint8_t> bytes(size);
  ReadSource source{};
  ASSERT_EQ(snap.read_memory(heap, bytes, &source), size);
  EXPECT_EQ(source, ReadSource::clone);
  for (uint64_t off = 0; off < size; off += 8) {
    uint64_t word;
    std::memcpy(&word, &bytes[off], 8);
    ASSERT_EQ(word, snapdump::testing::expected_heap_word(off)) << "offset " << off;
  }
  uint64_t live = 0;
  iovec l{&live, 8}, r{reinterpret_cast<void*>(heap), 8};
  ASSERT_EQ(process_vm_readv(target->pid(), &l, 1, &r, 1, 0), 8);
  EXPECT_EQ(live, ~snapdump::testing::expected_heap_word(0));
}

TEST(CloneCapture, RegionsTheKernelDoesNotCloneAreReadNotZero) {
  auto target = testing_support::spawn({"--mappings"});
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kVaSpace);
  int seen = 0;
  for (const auto& m : target->report()["mappings"]) {
    std::string kind = m["kind"].get<std::string>();
    uint64_t start = addr(m["start"]);
    uint64_t size = addr(m["size"]);
    auto region = std::find_if(snap.regions().begin(), snap.regions().end(),
                               [&](const Region& r) { return r.start <= start && start < r.end; });
    ASSERT_NE(region, snap.regions().end()) << kind;
    std::vector<uint8_t> bytes(size);
    if (kind.find("dontfork") != std::string::npos || kind.find("wipeonfork") != std::string::npos) {
      // DONTFORK memory is kept in the clone (clone_fork_flags_test.cpp), WIPEONFORK copied.
      EXPECT_EQ(region->copy, kind.find("dontfork") != std::string::npos ? RegionCopy::clone : RegionCopy::copied_in_pause)
          << kind;
      EXPECT_TRUE(region->dont_fork || region->wipe_on_fork) << kind;
      ++seen;
    }
    if (!m.contains("fill")) continue;
    uint8_t fill = static_cast<uint8_t>(addr(m["fill"]));
    ASSERT_EQ(snap.read_memory(start, bytes), size) << kind;
    EXPECT_TRUE(std::all_of(bytes.begin(), bytes.end(), [&](uint8_t b) { return b == fill; })) << kind;
  }
  EXPECT_EQ(seen, 2);
}

TEST(CloneCapture, DuplicateKeepsTheCloneAliveUntilTheLastFree) {
  auto target = testing_support::spawn({"--heap-mib", "1"});
  uint64_t heap = addr(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kThreads);
  pid_t clone = *snap.va_clone_pid();
  Snapshot dup = snap.duplicate();
  snap.free();
  EXPECT_FALSE(snap.valid());
  EXPECT_EQ(kill(clone, 0), 0) << "the clone must live while a duplicate does";
  uint64_t word = 0;
  EXPECT_EQ(dup.read_memory(heap, {reinterpret_cast<uint8_t*>(&word), 8}), 8u);
  EXPECT_EQ(word, snapdump::testing::expected_heap_word(0));
  dup.free();
  std::string why;
  EXPECT_TRUE(snapdump::testing::dead_and_not_left_to(clone, {target->pid(), getpid()}, &why))
      << "the clone must be gone after the last free: " << why;
}

TEST(SnapshotQueries, WalkMarkersVisitEveryEntryOnce) {
  auto target = testing_support::spawn({"--fds"});
  Snapshot snap = Snapshot::capture(target->pid(), kEverything);
  WalkMarker m;
  size_t n = 0;
  while (snap.walk_threads(m)) ++n;
  EXPECT_EQ(n, snap.threads().size());
  EXPECT_EQ(m.position(), n);
  m.seek_to_beginning();
  EXPECT_EQ(snap.walk_threads(m)->tid, snap.threads()[0].tid);
  m.set_position(snap.threads().size() - 1);
  EXPECT_EQ(snap.walk_threads(m)->tid, snap.threads().back().tid);
  EXPECT_EQ(snap.walk_threads(m), nullptr);
  WalkMarker h;
  n = 0;
  while (snap.walk_handles(h)) ++n;
  EXPECT_EQ(n, snap.handles().size());
  EXPECT_GE(n, 15u);
  EXPECT_GT(snap.performance().pause.wall_ns, 0u);
  EXPECT_EQ(snap.process().pid, target->pid());
  EXPECT_THROW(Snapshot::capture(target->pid(), capture::kThreads).regions(), Error);
}

TEST(SnapshotQueries, AuxiliaryPagesHoldEveryStackInUse) {
  auto target = testing_support::spawn({});
  Snapshot snap = Snapshot::capture(target->pid(), capture::kThreads | capture::kThreadContext);
  EXPECT_EQ(snap.memory_mode(), MemoryMode::auxiliary_pages);
  for (const ThreadEntry& t : snap.threads()) {
    uint8_t byte;
    ReadSource source{};
    ASSERT_EQ(snap.read_memory(t.regs.rsp, {&byte, 1}, &source), 1u) << t.name;
    EXPECT_EQ(source, ReadSource::auxiliary_page) << t.name;
    ASSERT_EQ(snap.read_memory(t.regs.rip, {&byte, 1}, &source), 1u) << t.name;
    EXPECT_EQ(source, ReadSource::auxiliary_page) << t.name;
  }
}

}  // namespace
}  // namespace snapdump

namespace snapdump {
namespace {

using snapdump::testing::thread_states;

TEST(HoldCapture, TargetStaysStoppedUntilFreeThenRunsOn) {
  auto target = snapdump::testing::TargetProcess::spawn({"--heap-mib", "1"});
  uint64_t heap = addr(target->report()["heap"]["addr"]);
  CaptureOptions options;
  options.hold = true;
  Snapshot snap = Snapshot::capture(target->pid(), capture::kThreads | capture::kThreadContext, context::kAll, options);
  EXPECT_EQ(snap.memory_mode(), MemoryMode::hold);
  std::string states = thread_states(target->pid());
  EXPECT_EQ(states, std::string(states.size(), 't')) << "every thread must be in a tracing stop: " << states;
  uint64_t word = 0;
  ReadSource source{};
  ASSERT_EQ(snap.read_memory(heap + 64, {reinterpret_cast<uint8_t*>(&word), 8}, &source), 8u);
  EXPECT_EQ(source, ReadSource::held);
  EXPECT_EQ(word, snapdump::testing::expected_heap_word(64));
  snap.free();
  states = thread_states(target->pid());
  EXPECT_EQ(states.find('t'), std::string::npos) << states;
  EXPECT_TRUE(target->heartbeat().contains("max_stall_ns"));
}

TEST(CloneCapture, BreakawayAndPerformanceCounters) {
  auto target = snapdump::testing::TargetProcess::spawn({"--heap-mib", "1"});
  Snapshot snap = Snapshot::capture(
      target->pid(), capture::kVaClone | capture::kThreads | capture::kCreateBreakaway |
                         capture::kCreateBreakawayOptional | capture::kCreateMeasurePerformance |
                         capture::kCreateReleaseSection | capture::kHandleTrace);
  PerformanceCounters pc = snap.performance();
  EXPECT_GT(pc.va_clone.wall_ns, 0u);
  EXPECT_GT(pc.va_clone.cycles, 0u);
  EXPECT_GT(pc.pause.wall_ns, pc.va_clone.wall_ns);
  EXPECT_GT(pc.threads.wall_ns, 0u);
  EXPECT_LE(pc.threads.wall_ns + pc.va_clone.wall_ns, pc.pause.wall_ns) << "phases inside the pause overlap";
  EXPECT_GE(pc.total.wall_ns, pc.pause.wall_ns);
  EXPECT_GT(pc.clone_lifetime_ns, 0u);
  EXPECT_TRUE(snap.va_clone_pid().has_value());
}

}  // namespace
}  // namespace snapdump

namespace snapdump {
namespace {

// Threads are created and exit while the capture runs: every long-lived thread is there,
// stopped, and a thread that exits during the capture is never an error.
TEST(ThreadChurn, NoThreadMissedAndNoErrorForOneThatExited) {
  auto target = snapdump::testing::TargetProcess::spawn({"--churn", "--heap-mib", "1"});
  int saw_child = 0;
  // At least 40 captures; more while none has caught a child yet, because a slow machine (the
  // sanitized tree under CI load) can space captures so that 40 of them all fall between children.
  // The deadline keeps a churner that stopped creating threads a failure, not a hang.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int captures = 0;
  for (int i = 0; i < 40 || (saw_child == 0 && std::chrono::steady_clock::now() < deadline); ++i) {
    ++captures;
    CaptureFlags flags = capture::kThreads | capture::kThreadContext | (i % 2 ? capture::kVaClone : 0);
    Snapshot snap = Snapshot::capture(target->pid(), flags);
    for (const auto& rt : target->report()["threads"]) {
      const ThreadEntry* t = find_thread(snap, rt["tid"].get<pid_t>());
      ASSERT_NE(t, nullptr) << "capture " << i << " missed " << rt["name"];
      EXPECT_EQ(t->capture, ThreadCapture::stopped);
    }
    bool churner = false;
    for (const ThreadEntry& t : snap.threads()) {
      churner |= t.name == "sd-churn";
      if (t.name == "sd-churn-child") {
        ++saw_child;
        EXPECT_TRUE(t.capture == ThreadCapture::stopped || t.capture == ThreadCapture::exited);
      }
    }
    EXPECT_TRUE(churner) << "capture " << i;
  }
  EXPECT_GT(saw_child, 0) << "none of " << captures << " captures caught a short-lived thread: the test proves nothing";
  EXPECT_TRUE(target->alive());
}

}  // namespace
}  // namespace snapdump
