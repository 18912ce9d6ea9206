// The MemoryInfoList is split at the edges of what the dump holds, so every MemoryList and
// Memory64List range begins an entry (and ends one), as in DbgHelp's dumps: readers written for
// Windows look a range up by the entry it starts. Splitting must lose nothing of the memory map
// and keep each piece's allocation, and every reader the suite uses must still take the dump.
// (support/read_dump checks the same rule on every dump the other tests read back.)
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/file_bytes.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing::memory_layout_violations;
using testing::parse_address;
using testing::TargetProcess;

// The memory the MemoryInfoList describes, as [start, end) runs with adjacent entries joined.
std::vector<std::pair<uint64_t, uint64_t>> described(const std::vector<reader::MemoryInfoView>& entries) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& e : entries) {
    if (!out.empty() && out.back().second == e.base) {
      out.back().second = e.base + e.size;
    } else {
      out.emplace_back(e.base, e.base + e.size);
    }
  }
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> mapped(std::span<const Region> regions) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const Region& r : regions) {
    if (!out.empty() && out.back().second == r.start) {
      out.back().second = r.end;
    } else {
      out.emplace_back(r.start, r.end);
    }
  }
  return out;
}

const reader::MemoryInfoView* entry_at(const std::vector<reader::MemoryInfoView>& entries, uint64_t address) {
  for (const auto& e : entries) {
    if (e.base <= address && address < e.base + e.size) return &e;
  }
  return nullptr;
}

// What the tests below check on every dump: the rule, nothing lost, each piece's allocation
// that of its mapping. Returns how many ranges start after the start of their mapping (where
// an unsplit MemoryInfoList would have broken the rule).
int expect_split_map(const reader::Minidump& d, const Snapshot& snap) {
  auto violations = memory_layout_violations(d);
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations, the first: " << violations.front();
  auto entries = d.memory_info();
  EXPECT_EQ(described(entries), mapped(snap.memory_map())) << "splitting must not lose or add memory";
  for (const auto& e : entries) {
    const Region* r = find_region(snap.memory_map(), e.base);
    if (r == nullptr) {
      ADD_FAILURE() << std::hex << "entry at 0x" << e.base << " lies in no mapping";
      continue;
    }
    EXPECT_LE(e.base + e.size, r->end) << std::hex << "entry at 0x" << e.base << " crosses its mapping's end";
    if (r->type != RegionType::image) {
      EXPECT_EQ(e.allocation_base, r->start) << std::hex << e.base;
    }
    EXPECT_EQ(e.state, format::mem::kCommit);
  }
  int inside = 0;
  for (const auto& m : d.memory()) {
    const Region* r = find_region(snap.memory_map(), m.address);
    if (r != nullptr && r->start < m.address) ++inside;
  }
  return inside;
}

TEST(MemoryInfoLayout, FullDumpRangesBeginAndEndEntries) {
  auto target = TargetProcess::spawn({"--threads", "3", "--heap-mib", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo | dump::kWithThreadInfo;
  std::string path = testing::temp_dump_path("layout-full");
  write_minidump(snap, path, options);
  auto d = reader::Minidump::open(path);
  EXPECT_TRUE(d.problems().empty());
  // Each thread's stack: its mapping is 8 MiB of which the dump holds the touched top pages
  // (Memory64List) and the part in use (MemoryList), both starting inside the mapping.
  EXPECT_GE(expect_split_map(d, snap), static_cast<int>(snap.threads().size()));
  auto entries = d.memory_info();
  for (const ThreadEntry& t : snap.threads()) {
    const Region* stack = find_region(snap.memory_map(), t.regs.rsp);
    ASSERT_NE(stack, nullptr);
    const reader::MemoryInfoView* e = entry_at(entries, t.regs.rsp);
    ASSERT_NE(e, nullptr);
    EXPECT_GT(e->base, stack->start) << "the stack's entry was split below the stack pointer";
    EXPECT_EQ(e->allocation_base, stack->start);
    EXPECT_EQ(e->allocation_protect, format::page::kReadWrite);
    EXPECT_EQ(e->protect, format::page::kReadWrite);
    EXPECT_EQ(e->type, format::mem::kPrivate);
  }

  // The readers: Breakpad's two tools take it whole, LLDB still names the stack's region.
  auto dumped = testing::run_minidump_dump(path);
  EXPECT_TRUE(dumped.ok) << dumped.err;
  auto walked = testing::run_minidump_stackwalk(path);
  EXPECT_TRUE(walked.ok) << walked.err;
  EXPECT_EQ(walked.thread_frames.size(), snap.threads().size()) << walked.raw;
  char rsp[32];
  std::snprintf(rsp, sizeof rsp, "0x%llx", static_cast<unsigned long long>(snap.threads()[1].regs.rsp));
  auto lldb = testing::lldb_batch(path, {std::string("memory region ") + rsp, "thread list"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  EXPECT_NE(lldb.out.find(" rw-"), std::string::npos) << lldb.out;
  EXPECT_EQ(testing::parse_lldb_backtraces(lldb.out).size(), snap.threads().size()) << lldb.out;
  std::filesystem::remove(path);
}

// A small dump with the memory map (MiniDumpWithFullMemoryInfo); returns its path.
std::string small_dump(const Snapshot& snap, const std::string& name) {
  DumpOptions options;
  options.type = dump::kWithFullMemoryInfo;
  std::string path = testing::temp_dump_path(name);
  write_minidump(snap, path, options);
  return path;
}

TEST(MemoryInfoLayout, SmallDumpStacksBeginEntries) {
  auto target = TargetProcess::spawn({"--threads", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = small_dump(snap, "layout-small");
  auto d = reader::Minidump::open(path);
  EXPECT_TRUE(d.problems().empty());
  // Stacks from 128 bytes below rsp, and 256 bytes either side of each rip.
  EXPECT_GE(expect_split_map(d, snap), static_cast<int>(snap.threads().size()));
  std::filesystem::remove(path);
}

// LLDB lists regions from the LinuxMaps stream when a dump has one; without it, it reads the
// MemoryInfoList: the split entries (not page-aligned where a stack is written from below rsp)
// are what it shows.
TEST(MemoryInfoLayout, LldbReadsTheSplitMapWhenItIsTheOnlyOne) {
  auto target = TargetProcess::spawn({"--threads", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = small_dump(snap, "layout-lldb");
  std::vector<uint8_t> bytes = testing::file_bytes(path);
  format::Header header;
  std::memcpy(&header, bytes.data(), sizeof header);
  bool dropped = false;
  for (uint32_t i = 0; i < header.number_of_streams; ++i) {
    format::Directory entry;
    uint8_t* at = bytes.data() + header.stream_directory_rva + i * sizeof entry;
    std::memcpy(&entry, at, sizeof entry);
    if (entry.stream_type != static_cast<uint32_t>(format::StreamType::LinuxMaps)) continue;
    entry = format::Directory{};  // an Unused entry, which every reader skips
    std::memcpy(at, &entry, sizeof entry);
    dropped = true;
  }
  ASSERT_TRUE(dropped);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()),
                                                                 static_cast<std::streamsize>(bytes.size()));
  auto d = reader::Minidump::open(path);
  const ThreadEntry& thread = snap.threads().back();
  auto entries = d.memory_info();
  const reader::MemoryInfoView* e = entry_at(entries, thread.regs.rsp);
  ASSERT_NE(e, nullptr);
  ASSERT_NE(e->base % 4096, 0u) << "the stack's entry starts 128 bytes below rsp";
  char rsp[32], expected[64];
  std::snprintf(rsp, sizeof rsp, "0x%llx", static_cast<unsigned long long>(thread.regs.rsp));
  std::snprintf(expected, sizeof expected, "[0x%016llx-0x%016llx) rw-", static_cast<unsigned long long>(e->base),
                static_cast<unsigned long long>(e->base + e->size));
  auto lldb = testing::lldb_batch(path, {std::string("memory region ") + rsp});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  EXPECT_NE(lldb.out.find(expected), std::string::npos) << expected << "\n" << lldb.out;
  EXPECT_TRUE(testing::run_minidump_dump(path).ok);
  std::filesystem::remove(path);
}

// Fails the first read of one region: scanning partial pages, the writer resumes a page later,
// so that range starts where no plan made before the bytes were read could have put an edge.
struct FirstPageUnreadable : DumpCallbacks {
  uint64_t address = 0;
  int failed = 0;
  bool vm_start() override { return true; }
  VmReadAnswer vm_pre_read(uint64_t at, std::span<uint8_t>) override {
    if (at != address) return {0, 0};
    ++failed;
    return {EIO, 0};
  }
};

TEST(MemoryInfoLayout, ARangeResumedAfterAnUnreadablePageBeginsAnEntry) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "2"});
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  const Region* r = find_region(snap.memory_map(), heap);
  ASSERT_NE(r, nullptr);
  // The heap's pages are all touched; its mapping may have merged with others before it.
  uint64_t run = r->start;
  if (auto runs = snap.populated(r->start, r->end)) {
    for (const auto& [lo, hi] : *runs) {
      if (lo <= heap && heap < hi) run = lo;
    }
  }
  FirstPageUnreadable cb;
  cb.address = run;
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo | dump::kIgnoreInaccessibleMemory |
                 dump::kScanInaccessiblePartialPages;
  options.callbacks = &cb;
  std::string path = testing::temp_dump_path("layout-resumed");
  write_minidump(snap, path, options);
  ASSERT_GE(cb.failed, 1) << "the heap's pages were never read from their start";
  auto d = reader::Minidump::open(path);
  EXPECT_TRUE(d.problems().empty());
  expect_split_map(d, snap);
  bool resumed = false;
  for (const auto& m : d.memory()) resumed |= m.from_memory64 && m.address == run + 4096;
  EXPECT_TRUE(resumed) << "the heap's pages resume a page after their start";
  auto entries = d.memory_info();
  const reader::MemoryInfoView* first = entry_at(entries, run);
  const reader::MemoryInfoView* rest = entry_at(entries, run + 4096);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(rest, nullptr);
  EXPECT_EQ(first->base + first->size, run + 4096) << "the unreadable page ends an entry";
  EXPECT_EQ(rest->base, run + 4096);
  EXPECT_EQ(rest->allocation_base, r->start);
  EXPECT_EQ(rest->protect, first->protect);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
