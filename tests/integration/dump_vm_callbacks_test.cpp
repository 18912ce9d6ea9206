// The Vm* callbacks, IncludeVmRegion, SecondaryFlags and the caller's-fd sink, each asserted by
// its effect in the file it produced, against real spawned targets.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/file_bytes.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::parse_address;
using snapdump::testing::TargetProcess;

std::string temp_dump(const char* name) { return snapdump::testing::temp_dump_path(std::string("vm-") + name); }

using snapdump::testing::file_bytes;

bool contains(const std::vector<uint8_t>& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// Rewrites every copy of a secret in what the writer reads: the dump must hold the rewrite.
struct Redactor : DumpCallbacks {
  std::string secret;
  int pre = 0, post = 0;
  bool vm_start() override { return true; }
  VmReadAnswer vm_pre_read(uint64_t, std::span<uint8_t>) override { return ++pre, VmReadAnswer{0, 0}; }
  VmReadAnswer vm_post_read(uint64_t, std::span<uint8_t> buffer, size_t completed, int error) override {
    ++post;
    auto end = buffer.begin() + static_cast<ptrdiff_t>(completed);
    for (auto it = buffer.begin(); (it = std::search(it, end, secret.begin(), secret.end())) != end;) {
      std::fill_n(it, secret.size(), 'X');
    }
    return {error, completed};
  }
};

TEST(DumpVmCallbacks, VmPostReadRedactsASecretInTheFile) {
  auto target = TargetProcess::spawn({"--threads", "2"});
  const auto& secret = target->report()["markers"]["secret"];
  uint64_t address = parse_address(secret["addr"]);
  std::string text = secret["text"];
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  std::string plain = temp_dump("plain"), path = temp_dump("redacted");
  write_minidump(snap, plain, options);
  EXPECT_TRUE(contains(file_bytes(plain), text));  // the test can fail: the secret is there
  Redactor cb;
  cb.secret = text;
  options.callbacks = &cb;
  write_minidump(snap, path, options);
  EXPECT_GT(cb.pre, 0);
  EXPECT_EQ(cb.pre, cb.post);
  EXPECT_FALSE(contains(file_bytes(path), text));
  auto d = testing::read_dump(path);
  std::string got(text.size(), '\0');
  ASSERT_EQ(d.read_memory(address, std::span<uint8_t>(reinterpret_cast<uint8_t*>(got.data()), got.size())),
            got.size());
  EXPECT_EQ(got, std::string(text.size(), 'X'));
  std::filesystem::remove(plain);
  std::filesystem::remove(path);
}

// Supplies the bytes of one range itself: the writer must not read those from the target.
struct Supplier : DumpCallbacks {
  uint64_t address = 0;
  bool vm_start() override { return true; }
  VmReadAnswer vm_pre_read(uint64_t at, std::span<uint8_t> buffer) override {
    if (at != address) return {0, 0};
    std::fill(buffer.begin(), buffer.end(), 0xAB);
    return {0, buffer.size()};
  }
  std::optional<MemoryRange> memory() override {
    if (asked++) return std::nullopt;
    return MemoryRange{address, 64};
  }
  int asked = 0;
};

TEST(DumpVmCallbacks, VmPreReadCanSupplyTheBytes) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "1"});
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  Supplier cb;
  cb.address = heap;
  DumpOptions options;
  options.callbacks = &cb;
  std::string path = temp_dump("supplied");
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  std::vector<uint8_t> got(64);
  ASSERT_EQ(d.read_memory(heap, got), 64u);
  EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](uint8_t b) { return b == 0xAB; }));
  std::filesystem::remove(path);
}

// Answers VmQuery for one region with another protection: MemoryInfoList shows the answer.
struct Querier : DumpCallbacks {
  uint64_t address = 0;
  int queries = 0;
  bool vm_start() override { return true; }
  std::optional<VmRegionInfo> vm_query(uint64_t at) override {
    ++queries;
    if (at != address) return std::nullopt;
    VmRegionInfo info;
    info.base = at;
    info.allocation_base = at;
    info.size = 4096;
    info.state = format::mem::kCommit;
    info.protect = info.allocation_protect = format::page::kReadOnly;
    info.type = format::mem::kPrivate;
    return info;
  }
};

TEST(DumpVmCallbacks, VmQueryAnswersDescribeTheRegions) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "1"});
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  const Region* r = find_region(snap.memory_map(), heap);
  ASSERT_NE(r, nullptr);
  Querier cb;
  cb.address = r->start;
  DumpOptions options;
  options.type = dump::kWithFullMemoryInfo;
  options.callbacks = &cb;
  std::string path = temp_dump("query");
  write_minidump(snap, path, options);
  EXPECT_EQ(cb.queries, static_cast<int>(snap.memory_map().size()));
  auto d = testing::read_dump(path);
  auto infos = d.memory_info();
  auto it = std::find_if(infos.begin(), infos.end(), [&](const auto& i) { return i.base == r->start; });
  ASSERT_NE(it, infos.end());
  EXPECT_EQ(it->protect, format::page::kReadOnly);
  EXPECT_EQ(it->size, 4096u);
  // Without VmStart accepted, VmQuery is never asked.
  struct NoVm : Querier {
    bool vm_start() override { return false; }
  } off;
  options.callbacks = &off;
  write_minidump(snap, path, options, {.replace_existing = true});
  EXPECT_EQ(off.queries, 0);
  std::filesystem::remove(path);
}

// Narrows the heap's region to its first page, and counts the calls per region.
struct Narrower : DumpCallbacks {
  uint64_t heap_region = 0;
  std::map<uint64_t, int> calls;  // region base -> calls
  bool include_vm_region(VmRegionInfo& region) override {
    ++calls[region.base];
    if (region.base == heap_region) region.size = 4096;
    return true;
  }
};

TEST(DumpVmCallbacks, IncludeVmRegionNarrowsRegionsAndIsCalledTwicePerRegion) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "2"});
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  const Region* r = find_region(snap.memory_map(), heap);
  ASSERT_NE(r, nullptr);
  ASSERT_GT(r->end - r->start, 8192u);
  Narrower cb;
  cb.heap_region = r->start;
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  options.callbacks = &cb;
  std::string path = temp_dump("narrow");
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  uint64_t heap_bytes = 0;
  std::set<uint64_t> written_regions;
  for (const auto& m : d.memory()) {
    if (!m.from_memory64) continue;
    if (m.address >= r->start && m.address < r->end) heap_bytes += m.bytes.size();
    if (const Region* in = find_region(snap.memory_map(), m.address)) written_regions.insert(in->start);
  }
  EXPECT_EQ(heap_bytes, 4096u);
  // Twice per region, whether or not any of its pages were there to write; and every region with
  // bytes in the dump was asked about.
  for (const auto& [base, n] : cb.calls) EXPECT_EQ(n, 2) << std::hex << base;
  for (uint64_t base : written_regions) EXPECT_EQ(cb.calls.count(base), 1u) << std::hex << base;

  // Returning FALSE stops the calls: every region from there on is written whole.
  struct Stop : DumpCallbacks {
    int calls = 0;
    bool include_vm_region(VmRegionInfo&) override { return ++calls, false; }
  } stop;
  options.callbacks = &stop;
  write_minidump(snap, path, options, {.replace_existing = true});
  EXPECT_EQ(stop.calls, 2);  // once per pass
  auto whole = testing::read_dump(path);
  std::vector<uint8_t> bytes(parse_address(target->report()["heap"]["size"]));
  EXPECT_EQ(whole.read_memory(heap, bytes), bytes.size()) << "the heap is written whole again";
  std::filesystem::remove(path);
}

uint32_t misc_flags1(const reader::Minidump& d) {
  auto raw = d.stream(static_cast<uint32_t>(format::StreamType::MiscInfo));
  uint32_t flags = 0;
  if (raw && raw->size() >= 8) std::memcpy(&flags, raw->data() + 4, 4);
  return flags;
}

TEST(DumpVmCallbacks, SecondaryFlagsWithoutPowerInfoDropsProcessorPowerInfo) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = temp_dump("power");
  write_minidump(snap, path, {});
  EXPECT_TRUE(misc_flags1(testing::read_dump(path)) & format::misc::kProcessorPowerInfo);
  struct NoPower : DumpCallbacks {
    uint32_t secondary_flags(uint32_t f) override { return f | secondary::kWithoutPowerInfo; }
  } cb;
  DumpOptions options;
  options.callbacks = &cb;
  write_minidump(snap, path, options, {.replace_existing = true});
  EXPECT_FALSE(misc_flags1(testing::read_dump(path)) & format::misc::kProcessorPowerInfo);
  struct Bad : DumpCallbacks {
    uint32_t secondary_flags(uint32_t) override { return 0x80; }
  } bad;
  options.callbacks = &bad;
  EXPECT_THROW(write_minidump(snap, path, options, {.replace_existing = true}), Error);
  std::filesystem::remove(path);
}

TEST(DumpSinks, CallersFdGetsTheDumpAtItsOffsetAndIsRestoredOnFailure) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = temp_dump("fd");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  const std::string prefix = "caller's own header\n";
  ASSERT_EQ(write(fd, prefix.data(), prefix.size()), static_cast<ssize_t>(prefix.size()));
  // A cancelled dump leaves the file as it was.
  struct Cancel : DumpCallbacks {
    CancelAnswer cancel() override { return {true, true}; }
  } cancel;
  DumpOptions options;
  options.callbacks = &cancel;
  EXPECT_THROW(write_minidump(snap, fd, options), Error);
  EXPECT_EQ(file_bytes(path).size(), prefix.size());

  DumpResult result = write_minidump(snap, fd, {});
  auto bytes = file_bytes(path);
  ASSERT_EQ(bytes.size(), prefix.size() + result.bytes);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(prefix.size())), prefix);
  EXPECT_EQ(lseek(fd, 0, SEEK_CUR), static_cast<off_t>(bytes.size()));  // left after the dump
  auto d = reader::Minidump::from_bytes({bytes.begin() + static_cast<ptrdiff_t>(prefix.size()), bytes.end()});
  EXPECT_TRUE(d.problems().empty());
  EXPECT_EQ(d.threads().size(), snap.threads().size());
  close(fd);

  // (A pipe gets a stream: DumpOutput.ACallersPipeGetsTheDumpAsAStream.)
  std::filesystem::remove(path);
}

TEST(DumpSinks, TargetExitingMidDumpWithoutACloneFailsAndSaysSo) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "4"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory));
  ASSERT_EQ(snap.memory_mode(), MemoryMode::auxiliary_pages);
  kill(target->pid(), SIGKILL);
  target->wait_exit(5000);
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  std::string path = temp_dump("exited");
  try {
    write_minidump(snap, path, options);
    ADD_FAILURE() << "a dump of a vanished process succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::process_exited) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace snapdump
