// Minidumps of real targets, loaded by readers nobody here wrote: LLDB (lldb-16) and Breakpad's
// minidump_stackwalk. A dump a real debugger cannot open is a bug.
#include <span>
#include <string_view>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/hex.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::TargetProcess;

std::string temp_dump(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("snapdump-test-") + std::to_string(getpid()) + "-" + name + ".dmp")).string();
}

// LLDB prints a 20-byte build-id as a UUID "C87A547C-0920-9991-5DEC-4F19A04FB5B2-2D14D17F".
std::string lldb_uuid(std::span<const uint8_t> build_id) {
  std::string h = snapdump::testing::to_hex(build_id), out;
  const size_t groups[] = {8, 4, 4, 4, 12, 8, 8, 8};
  size_t at = 0;
  for (size_t g : groups) {
    if (at >= h.size()) break;
    if (!out.empty()) out += '-';
    out += h.substr(at, g);
    at += g;
  }
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

TEST(MinidumpInLldb, EveryThreadBacktraceAndModule) {
  auto target = TargetProcess::spawn({"--all", "--heap-mib", "4"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = temp_dump("normal");
  DumpResult result = write_minidump(snap, path, {});
  EXPECT_GT(result.bytes, 0u);
  auto lldb = snapdump::testing::lldb_batch(path, {"thread list", "bt all", "image list"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  EXPECT_NE(lldb.out.find("was loaded"), std::string::npos) << lldb.out;
  auto threads = snapdump::testing::parse_lldb_backtraces(lldb.out);
  for (const auto& rt : target->report()["threads"]) {
    uint64_t tid = rt["tid"].get<uint64_t>();
    auto it = std::find_if(threads.begin(), threads.end(), [&](const auto& t) { return t.tid == tid; });
    ASSERT_NE(it, threads.end()) << "LLDB does not list thread " << tid << "\n" << lldb.out;
    std::string fn = rt["function"].get<std::string>();
    bool found = std::any_of(it->frames.begin(), it->frames.end(),
                             [&](const std::string& f) { return f.find(fn) != std::string::npos; });
    EXPECT_TRUE(found) << "thread " << tid << " (" << rt["name"] << ") has no frame in " << fn << "\n" << lldb.out;
  }
  auto modules = snapdump::testing::parse_lldb_image_list(lldb.out);
  int matched = 0;
  for (const Region& r : snap.memory_map()) {
    if (!r.elf || r.elf->build_id.empty() || r.path.empty() || r.path[0] != '/') continue;
    auto m = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.path == std::string_view(r.path); });
    ASSERT_NE(m, modules.end()) << r.path << " missing from LLDB's image list\n" << lldb.out;
    EXPECT_EQ(m->uuid, lldb_uuid(r.elf->build_id)) << r.path;
    EXPECT_EQ(m->base, r.elf->load_address) << r.path;
    ++matched;
  }
  EXPECT_GE(matched, 4);
  std::filesystem::remove(path);
}

TEST(MinidumpInLldb, FullMemoryDumpHoldsTheHeapPattern) {
  auto target = TargetProcess::spawn({"--heap-mib", "8"});
  uint64_t heap = snapdump::testing::parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  target->command("overwrite-heap");  // the dump must still hold the capture's bytes
  std::string path = temp_dump("full");
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo | dump::kWithThreadInfo;
  DumpResult result = write_minidump(snap, path, options);
  EXPECT_GE(result.memory_bytes, 8u << 20);
  char address[64];
  std::snprintf(address, sizeof address, "%#llx", static_cast<unsigned long long>(heap + 8 * 1000));
  auto lldb = snapdump::testing::lldb_batch(path, {std::string("memory read --format x --size 8 --count 2 ") + address});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  char expected[64];
  std::snprintf(expected, sizeof expected, "0x%016llx", static_cast<unsigned long long>(snapdump::testing::expected_heap_word(8 * 1000)));
  EXPECT_NE(lldb.out.find(expected), std::string::npos) << "expected " << expected << "\n" << lldb.out;
  std::filesystem::remove(path);
}

TEST(MinidumpInBreakpad, StackwalkWalksEveryThread) {
  auto target = TargetProcess::spawn({"--heap-mib", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = temp_dump("stackwalk");
  write_minidump(snap, path, {});
  auto walk = snapdump::testing::run_minidump_stackwalk(path);
  ASSERT_TRUE(walk.ok) << walk.raw;
  EXPECT_EQ(walk.thread_frames.size(), snap.threads().size()) << walk.raw;
  for (const auto& [index, frames] : walk.thread_frames) EXPECT_FALSE(frames.empty()) << "thread " << index;
  bool found_target = false;
  for (const std::string& m : walk.modules) found_target |= m.find("snapdump_target") != std::string::npos;
  EXPECT_TRUE(found_target) << walk.raw;
  std::filesystem::remove(path);
}

TEST(MinidumpFailures, FullDiskLeavesNoFileAndSaysSo) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root (CI runs as root)";
  std::string dir = (std::filesystem::temp_directory_path() / ("snapdump-full-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  ASSERT_EQ(mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m"), 0) << "mount: " << std::strerror(errno);
  auto target = TargetProcess::spawn({"--heap-mib", "8"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  std::string path = dir + "/full.dmp";
  try {
    write_minidump(snap, path, options);
    ADD_FAILURE() << "a 1 MiB file system cannot hold an 8 MiB heap";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::no_space) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a failed dump left a file behind";
  umount(dir.c_str());
  std::filesystem::remove(dir);
}

TEST(MinidumpFailures, UnwritablePathIsNamed) {
  auto target = TargetProcess::spawn({"--heap-mib", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  try {
    write_minidump(snap, "/nonexistent-dir/x.dmp", {});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent-dir/x.dmp"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace snapdump
