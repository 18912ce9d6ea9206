// The C examples (examples/) run as programs on real targets: the seed 001 program's dump loads
// in our reader and in LLDB with every thread; the walk example prints every thread; the
// CreateFileW example writes a dump through an L"" path.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/reader.h"
#include "support/external_readers.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace {

using snapdump::testing::run_command;
using snapdump::testing::TargetProcess;

std::set<uint32_t> target_tids(const TargetProcess& target) {
  std::set<uint32_t> tids{static_cast<uint32_t>(target.pid())};
  for (const auto& t : target.report()["threads"]) tids.insert(t["tid"].get<uint32_t>());
  return tids;
}

TEST(WinExamples, SeedSnapshotDumpLoadsInOurReaderAndLldb) {
  auto target = TargetProcess::spawn({"--threads", "3", "--heap-mib", "2", "--fds"});
  std::string path = snapdump::testing::temp_dump_path("seed-example");
  auto run = run_command({SEED_SNAPSHOT_DUMP_PATH, std::to_string(target->pid()), path});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_EQ(run.out, path + "\n");
  ASSERT_TRUE(target->alive());
  target->heartbeat();  // the target runs on after the capture

  auto dump = snapdump::testing::read_dump(path);
  EXPECT_TRUE(dump.problems().empty()) << ::testing::PrintToString(dump.problems());
  std::set<uint32_t> dumped;
  for (const auto& t : dump.threads()) dumped.insert(t.tid);
  for (uint32_t tid : target_tids(*target)) EXPECT_TRUE(dumped.count(tid)) << tid;
  // MiniDumpWithFullMemory: the heap secret is in the file.
  const auto& secret = target->report()["markers"]["secret"];
  std::string text = secret["text"];
  std::string got(text.size(), '\0');
  EXPECT_EQ(dump.read_memory(snapdump::testing::parse_address(secret["addr"]),
                             std::span<uint8_t>(reinterpret_cast<uint8_t*>(got.data()), got.size())),
            got.size());
  EXPECT_EQ(got, text);

  ASSERT_FALSE(snapdump::testing::lldb_path().empty()) << "lldb-16 is not installed (scripts/setup.sh)";
  auto lldb = snapdump::testing::lldb_batch(path, {"thread list", "bt all", "image list"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  EXPECT_NE(lldb.out.find("was loaded"), std::string::npos) << lldb.out;
  auto threads = snapdump::testing::parse_lldb_backtraces(lldb.out);
  std::set<uint32_t> lldb_tids;
  for (const auto& t : threads) lldb_tids.insert(static_cast<uint32_t>(t.tid));
  for (uint32_t tid : target_tids(*target)) EXPECT_TRUE(lldb_tids.count(tid)) << tid << "\n" << lldb.out;
  // The modules are there (the seed captures no VA space; the clone capture adds it) and LLDB
  // names the target's functions in its backtraces.
  auto modules = snapdump::testing::parse_lldb_image_list(lldb.out);
  EXPECT_TRUE(std::any_of(modules.begin(), modules.end(), [](const auto& m) {
    return m.path == snapdump::testing::target_path();
  })) << lldb.out;
  EXPECT_NE(lldb.out.find("snapdump_target`park_"), std::string::npos) << lldb.out;
  std::filesystem::remove(path);
}

TEST(WinExamples, PssWalkPrintsEveryThreadAndHandle) {
  auto target = TargetProcess::spawn({"--threads", "2", "--heap-mib", "1", "--fds"});
  auto run = run_command({PSS_WALK_PATH, std::to_string(target->pid())});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  for (uint32_t tid : target_tids(*target))
    EXPECT_NE(run.out.find("thread " + std::to_string(tid) + " rip 0x"), std::string::npos) << run.out;
  for (const auto& f : target->report()["fds"]) {
    std::string line = "handle " + std::to_string(f["fd"].get<int>()) + " ";
    auto at = run.out.find(line);
    ASSERT_NE(at, std::string::npos) << line << "\n" << run.out;
    EXPECT_NE(run.out.find(f["link_prefix"].get<std::string>(), at), std::string::npos) << f;
  }
  EXPECT_NE(run.out.find(snapdump::testing::target_path()), std::string::npos);  // a mapped file name
}

TEST(WinExamples, WideCreateFileWritesALiveDump) {
  auto target = TargetProcess::spawn({"--threads", "2", "--heap-mib", "1", "--fds"});
  auto dir = std::filesystem::temp_directory_path() / ("snapdump-wide-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto previous = std::filesystem::current_path();
  std::filesystem::current_path(dir);  // the example writes L"live.dmp" in its working directory
  auto run = run_command({WIDE_LIVE_DUMP_PATH, std::to_string(target->pid())});
  std::filesystem::current_path(previous);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  auto dump = snapdump::testing::read_dump((dir / "live.dmp").string());
  EXPECT_EQ(dump.threads().size(), target_tids(*target).size());
  EXPECT_FALSE(dump.handles().empty());  // MiniDumpWithHandleData
  std::filesystem::remove_all(dir);
}

}  // namespace
