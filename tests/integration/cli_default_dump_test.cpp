// `snapdump dump PID` with neither --type nor --full: MiniDumpNormal plus the memory map and the
// thread information, which Breakpad's minidump_dump requires; the C and C++ APIs keep
// MiniDumpNormal's meaning for a type of 0.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing::TargetProcess;

bool has_stream(const reader::Minidump& d, format::StreamType type) {
  return d.stream(static_cast<uint32_t>(type)).has_value();
}

TEST(CliDefaultDump, CarriesTheMemoryMapAndThreadInfoAndEveryReaderTakesIt) {
  auto target = TargetProcess::spawn({"--threads", "3"});
  std::string path = testing::temp_dump_path("cli-default"), normal = testing::temp_dump_path("cli-normal");
  auto dumped = testing::run_cli({"dump", std::to_string(target->pid()), "-o", path, "--no-progress"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  auto d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty());
  EXPECT_TRUE(has_stream(d, format::StreamType::MemoryInfoList));
  EXPECT_TRUE(has_stream(d, format::StreamType::ThreadInfoList));
  EXPECT_FALSE(has_stream(d, format::StreamType::Memory64List)) << "still a small dump";
  EXPECT_FALSE(has_stream(d, format::StreamType::HandleData));
  const size_t threads = target->report()["threads"].size();  // the main thread and the heartbeat's too
  ASSERT_EQ(d.threads().size(), threads);
  for (const auto& t : d.threads()) EXPECT_TRUE(t.info.has_value()) << t.tid;

  // --type Normal is MiniDumpNormal exactly, which minidump_dump refuses for want of a memory map:
  // the default differs from it by a few KiB.
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "-o", normal, "--no-progress", "--type", "Normal"}).exit_code, 0);
  auto plain = testing::read_dump(normal);
  EXPECT_FALSE(has_stream(plain, format::StreamType::MemoryInfoList));
  EXPECT_FALSE(has_stream(plain, format::StreamType::ThreadInfoList));
  auto size = std::filesystem::file_size(path), normal_size = std::filesystem::file_size(normal);
  EXPECT_GT(size, normal_size);
  EXPECT_LT(size - normal_size, 64u * 1024) << "a few KiB, not more";
  EXPECT_FALSE(testing::run_minidump_dump(normal).ok);

  auto breakpad = testing::run_minidump_dump(path);
  EXPECT_TRUE(breakpad.ok) << "exit " << breakpad.exit_code << "\n" << breakpad.err;
  EXPECT_EQ(breakpad.streams.count(static_cast<uint32_t>(format::StreamType::MemoryInfoList)), 1u);
  EXPECT_EQ(breakpad.thread_ids.size(), threads);
  auto walked = testing::run_minidump_stackwalk(path);
  EXPECT_TRUE(walked.ok) << walked.err;
  EXPECT_EQ(walked.thread_frames.size(), threads) << walked.raw;
  auto lldb = testing::lldb_batch(path, {"thread list", "bt all"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  auto listed = testing::parse_lldb_backtraces(lldb.out);
  ASSERT_EQ(listed.size(), threads) << lldb.out;
  for (const auto& expected : target->report()["threads"]) {
    auto tid = expected["tid"].get<uint64_t>();
    auto it = std::find_if(listed.begin(), listed.end(), [&](const auto& t) { return t.tid == tid; });
    ASSERT_NE(it, listed.end()) << tid;
    EXPECT_NE(std::find(it->frames.begin(), it->frames.end(), expected["function"].get<std::string>()), it->frames.end())
        << lldb.out;
  }
  std::filesystem::remove(path);
  std::filesystem::remove(normal);
}

TEST(CliDefaultDump, HelpSaysWhatTheDefaultHolds) {
  auto help = testing::run_cli({"dump", "--help"});
  ASSERT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Without --type or --full: WithFullMemoryInfo,WithThreadInfo"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--type Normal gives MiniDumpNormal alone"), std::string::npos) << help.out;
}

TEST(CliDefaultDump, TheApisKeepMiniDumpNormal) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = testing::temp_dump_path("api-normal");
  write_minidump(snap, path, DumpOptions{});
  auto d = testing::read_dump(path);
  EXPECT_FALSE(has_stream(d, format::StreamType::MemoryInfoList));
  EXPECT_FALSE(has_stream(d, format::StreamType::ThreadInfoList));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
