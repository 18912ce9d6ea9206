// The memory and filtering MINIDUMP_TYPE flags, each asserted against a dump without it, on
// real spawned targets (docs/minidump.md gives the Linux meaning of each).
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::parse_address;
using snapdump::testing::TargetProcess;

class DumpTypeFlags : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    target_ = TargetProcess::spawn({"--all", "--threads", "6", "--heap-mib", "1"}).release();
    snap_ = new Snapshot(Snapshot::capture(target_->pid(), capture_flags_for(dump::kNormal)));
  }
  static void TearDownTestSuite() {
    delete snap_;
    delete target_;
  }

  // Writes a dump of the shared snapshot and opens it; the file is removed with the test.
  reader::Minidump dump(DumpType type, DumpCallbacks* callbacks = nullptr) {
    path_ = (std::filesystem::temp_directory_path() /
             ("snapdump-flags-" + std::to_string(getpid()) + "-" + std::to_string(type) + ".dmp")).string();
    DumpOptions options;
    options.type = type;
    options.callbacks = callbacks;
    write_minidump(*snap_, path_, options, {.replace_existing = true});
    auto d = testing::read_dump(path_);
    EXPECT_TRUE(d.problems().empty()) << ::testing::PrintToString(d.problems());
    return d;
  }
  void TearDown() override {
    if (!path_.empty()) std::filesystem::remove(path_);
  }

  static bool holds(const reader::Minidump& d, uint64_t address, size_t size) {
    std::vector<uint8_t> bytes(size);
    return d.read_memory(address, bytes) == size;
  }
  // A thread's stack is a private read-write mapping of which a few pages were ever used: only
  // those exist (present or swapped), the way Windows commits only what is used. The dump has the
  // stack in use and not the deepest page.
  static void expect_only_used_stack_pages(const reader::Minidump& d, const Snapshot& snap) {
    size_t checked = 0;
    for (const ThreadEntry& t : snap.threads()) {
      if (t.capture != ThreadCapture::stopped || t.stack_base - t.stack_limit < (64u << 10)) continue;
      EXPECT_TRUE(holds(d, t.regs.rsp, 64)) << t.tid;
      EXPECT_FALSE(holds(d, t.stack_limit, 1)) << "the deepest page of thread " << t.tid << "'s stack was never used";
      ++checked;
    }
    EXPECT_GE(checked, 2u);
  }
  static bool holds_text(const reader::Minidump& d, uint64_t address, const std::string& text) {
    std::vector<uint8_t> got(text.size());
    return d.read_memory(address, got) == got.size() && std::memcmp(got.data(), text.data(), text.size()) == 0;
  }
  static const Region& region_named(const std::string& kind) {
    for (const auto& m : target_->report()["mappings"]) {
      if (m["kind"] == kind) return *find_region(snap_->memory_map(), parse_address(m["start"]));
    }
    throw std::runtime_error("no mapping " + kind);
  }
  static uint64_t marker(const char* name) { return parse_address(target_->report()["markers"][name]["addr"]); }
  static std::string marker_text(const char* name) { return target_->report()["markers"][name]["text"]; }

  static TargetProcess* target_;
  static Snapshot* snap_;
  std::string path_;
};

TargetProcess* DumpTypeFlags::target_ = nullptr;
Snapshot* DumpTypeFlags::snap_ = nullptr;

TEST_F(DumpTypeFlags, WithDataSegsHoldsModuleGlobals) {
  EXPECT_FALSE(holds_text(dump(dump::kNormal), marker("data_marker"), marker_text("data_marker")));
  EXPECT_TRUE(holds_text(dump(dump::kWithDataSegs), marker("data_marker"), marker_text("data_marker")));
}

TEST_F(DumpTypeFlags, WithCodeSegsHoldsModuleCode) {
  // A function's code far from any thread's instruction pointer: only the code segments hold it.
  uint64_t fn = parse_address(target_->report()["libs"]["plugin"]["function"]);
  EXPECT_FALSE(holds(dump(dump::kNormal), fn, 16));
  auto d = dump(dump::kWithCodeSegs);
  std::vector<uint8_t> in_dump(16), in_snapshot(16);
  ASSERT_EQ(d.read_memory(fn, in_dump), 16u);
  ASSERT_EQ(snap_->read_memory(fn, in_snapshot), 16u);
  EXPECT_EQ(in_dump, in_snapshot);
}

TEST_F(DumpTypeFlags, PrivateReadWriteAndWriteCopyPickTheirRegions) {
  const Region& shared = region_named("shared_anon");
  auto rw = dump(dump::kWithPrivateReadWriteMemory);
  // The mapping the target filled (the kernel may have merged it with a neighbour, whose
  // untouched pages are not committed memory and are left out).
  for (const auto& m : target_->report()["mappings"]) {
    if (m["kind"] == "private_anon") {
      EXPECT_TRUE(holds(rw, parse_address(m["start"]), parse_address(m["size"])));
    }
  }
  EXPECT_FALSE(holds(rw, shared.start, 1));
  EXPECT_FALSE(holds_text(rw, marker("data_marker"), marker_text("data_marker")));  // .data is WRITECOPY
  auto wc = dump(dump::kWithPrivateWriteCopyMemory);
  EXPECT_TRUE(holds_text(wc, marker("data_marker"), marker_text("data_marker")));
  EXPECT_FALSE(holds(wc, region_named("private_anon").start, 1));
}

TEST_F(DumpTypeFlags, FullMemoryLeavesOutPagesNeverTouched) {
  auto full = dump(dump::kWithFullMemory | dump::kWithFullMemoryInfo);
  // Every page the target wrote is there: its .data marker and the filled private mapping...
  EXPECT_TRUE(holds_text(full, marker("data_marker"), marker_text("data_marker")));
  for (const auto& m : target_->report()["mappings"]) {
    if (m["kind"] == "private_anon") {
      EXPECT_TRUE(holds(full, parse_address(m["start"]), parse_address(m["size"])));
    }
  }
  // ...and none of the anonymous pages nobody touched: their content is known (zero).
  expect_only_used_stack_pages(full, *snap_);
  // They are still committed memory, not reserved: Linux has charged the whole private
  // writable mapping to commit accounting, and touching such a page succeeds (docs/minidump.md).
  size_t seen = 0;
  for (const ThreadEntry& t : snap_->threads()) {
    if (t.capture != ThreadCapture::stopped || t.stack_base - t.stack_limit < (64u << 10)) continue;
    for (const auto& info : full.memory_info()) {
      if (t.stack_limit < info.base || t.stack_limit >= info.base + info.size) continue;
      EXPECT_EQ(info.state, 0x1000u) << "MEM_COMMIT, thread " << t.tid;
      EXPECT_EQ(info.protect, 0x04u) << "PAGE_READWRITE, thread " << t.tid;
      EXPECT_EQ(info.type, 0x20000u) << "MEM_PRIVATE, thread " << t.tid;
      ++seen;
    }
  }
  EXPECT_GE(seen, 2u);
}

TEST_F(DumpTypeFlags, PrivateReadWriteLeavesOutPagesNeverTouched) {
  expect_only_used_stack_pages(dump(dump::kWithPrivateReadWriteMemory), *snap_);
}

TEST_F(DumpTypeFlags, IndirectlyReferencedMemoryHoldsWhatAStackLocalPointsAt) {
  EXPECT_FALSE(holds_text(dump(dump::kNormal), marker("secret"), marker_text("secret")));
  auto d = dump(dump::kWithIndirectlyReferencedMemory);
  EXPECT_TRUE(holds_text(d, marker("secret"), marker_text("secret")));
}

bool stack_holds_word(const reader::Minidump& d, uint64_t word) {
  for (const auto& t : d.threads()) {
    for (size_t i = 0; i + 8 <= t.stack.size(); i += 8) {
      uint64_t v;
      std::memcpy(&v, t.stack.data() + i, 8);
      if (v == word) return true;
    }
  }
  return false;
}

TEST_F(DumpTypeFlags, FilterMemoryKeepsOnlyWhatAStackWalkNeeds) {
  uint64_t secret = marker("secret");
  EXPECT_TRUE(stack_holds_word(dump(dump::kNormal), secret));  // the local is on the stack
  auto d = dump(dump::kFilterMemory);
  EXPECT_FALSE(stack_holds_word(d, secret));
  // Every thread still unwinds through its named function in LLDB.
  auto lldb = snapdump::testing::lldb_batch(path_, {"thread list", "bt all"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  auto threads = snapdump::testing::parse_lldb_backtraces(lldb.out);
  for (const auto& rt : target_->report()["threads"]) {
    if (rt["kind"] == "spin") continue;  // a spinning thread has no frames below its function
    uint64_t tid = rt["tid"].get<uint64_t>();
    auto it = std::find_if(threads.begin(), threads.end(), [&](const auto& t) { return t.tid == tid; });
    ASSERT_NE(it, threads.end()) << tid << " " << rt["kind"] << "\n" << lldb.out;
    std::string fn = rt["function"];
    EXPECT_TRUE(std::any_of(it->frames.begin(), it->frames.end(),
                            [&](const std::string& f) { return f.find(fn) != std::string::npos; }))
        << fn << "\n" << lldb.out;
  }
}

struct ReferencedModules : DumpCallbacks {
  std::vector<std::pair<std::string, bool>> seen;
  bool module(const ModuleCallbackInfo& info, ModuleWriteFlags& flags) override {
    seen.emplace_back(info.path, flags & module_write::kReferencedByMemory);
    return flags & module_write::kReferencedByMemory;  // the documented use: keep only those
  }
};

TEST_F(DumpTypeFlags, ScanMemoryMarksModulesTheStacksPointInto) {
  ReferencedModules cb;
  auto d = dump(dump::kScanMemory, &cb);
  std::string exe = target_->report()["exe"];
  std::string plugin = target_->report()["libs"]["plugin"]["path"];
  auto flag_of = [&](const std::string& suffix) {
    for (const auto& [path, referenced] : cb.seen) {
      if (path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return referenced;
      }
    }
    throw std::runtime_error("no module " + suffix);
  };
  EXPECT_TRUE(flag_of(exe));            // return addresses into the park functions
  EXPECT_TRUE(flag_of("/libc.so.6"));   // every thread is in a libc call
  EXPECT_FALSE(flag_of(plugin));        // only a global points at the plugin
  for (const auto& m : d.modules()) EXPECT_NE(std::string_view(m.name), plugin);
}

TEST_F(DumpTypeFlags, FilterModulePathsKeepsOnlyFileNames) {
  for (const auto& m : dump(dump::kFilterModulePaths).modules()) {
    EXPECT_EQ(m.name.find('/'), std::string::npos) << m.name;
    EXPECT_FALSE(m.name.empty());
  }
}

TEST_F(DumpTypeFlags, WithModuleHeadersHoldsEachElfHeader) {
  auto d = dump(dump::kWithModuleHeaders);
  int checked = 0;
  for (const auto& m : d.modules()) {
    std::vector<uint8_t> magic(4);
    ASSERT_EQ(d.read_memory(m.base, magic), 4u) << m.name;
    EXPECT_EQ(std::memcmp(magic.data(), "\x7f" "ELF", 4), 0) << m.name;
    ++checked;
  }
  EXPECT_GE(checked, 4);
  EXPECT_FALSE(holds(dump(dump::kNormal), d.modules().front().base, 4));
}

TEST_F(DumpTypeFlags, WithProcessThreadDataHoldsEachThreadsControlBlock) {
  auto d = dump(dump::kWithProcessThreadData);
  for (const auto& t : d.threads()) {
    ASSERT_NE(t.teb, 0u);
    // glibc's TCB starts with a pointer to itself (tcbhead_t.tcb).
    uint64_t self = 0;
    ASSERT_EQ(d.read_memory(t.teb, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&self), 8)), 8u) << t.tid;
    EXPECT_EQ(self, t.teb) << t.tid;
  }
}

TEST_F(DumpTypeFlags, FilterTriageDropsCommandLineEnvironmentAndPaths) {
  auto normal = dump(dump::kNormal);
  EXPECT_TRUE(normal.text_stream(static_cast<uint32_t>(format::StreamType::LinuxCmdLine)));
  auto d = dump(dump::kFilterTriage);
  EXPECT_FALSE(d.text_stream(static_cast<uint32_t>(format::StreamType::LinuxCmdLine)));
  EXPECT_FALSE(d.text_stream(static_cast<uint32_t>(format::StreamType::LinuxEnviron)));
  for (const auto& m : d.modules()) EXPECT_EQ(m.name.find('/'), std::string::npos) << m.name;
}

TEST_F(DumpTypeFlags, FlagsWithoutALinuxMeaningChangeNothing) {
  auto streams = [](const reader::Minidump& d) {
    std::vector<uint32_t> types;
    for (const auto& s : d.streams()) types.push_back(s.type);
    return types;
  };
  auto normal = dump(dump::kNormal);
  auto expected = streams(normal);
  size_t memory = normal.memory().size();
  for (DumpType t : {dump::kWithoutAuxiliaryState, dump::kWithFullAuxiliaryState, dump::kFilterWriteCombinedMemory}) {
    auto d = dump(t);
    EXPECT_EQ(streams(d), expected) << t;
    EXPECT_EQ(d.memory().size(), memory) << t;
  }
}

TEST(DumpTypeFlagsPartialPages, ScanInaccessiblePartialPagesKeepsTheReadablePart) {
  auto target = TargetProcess::spawn({"--threads", "1", "--truncated-mapping"});
  const auto& m = target->report()["mappings"][0];
  uint64_t start = parse_address(m["start"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  std::string path = (std::filesystem::temp_directory_path() / ("snapdump-partial-" + std::to_string(getpid()))).string();
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kIgnoreInaccessibleMemory | dump::kScanInaccessiblePartialPages;
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty());
  std::vector<uint8_t> bytes(3 * 4096);
  EXPECT_EQ(d.read_memory(start, bytes), m["readable"].get<size_t>());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
