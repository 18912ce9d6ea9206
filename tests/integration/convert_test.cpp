// `snapdump convert`: minidumps (snapdump's full and small ones, LLDB's) written as ELF cores,
// read back by gdb and eu-stack with the target's binaries; the core holds exactly the memory the
// minidump held.
#include <algorithm>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/core_readers.h"
#include "support/external_readers.h"
#include "support/file_bytes.h"
#include "support/run_cli.h"
#include "support/target_process.h"
#include "support/temp_dir.h"

namespace snapdump {
namespace {

using testing::CommandResult;
using testing::run_command;
using testing::TargetProcess;
using testing::TempDir;
using testing::tids_of;

std::string converted(const std::string& dump, const std::string& core) {
  CommandResult r = testing::run_cli({"convert", dump, "-o", core});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return core;
}

TEST(Convert, AFullMinidumpBecomesACoreGdbUnwindsLikeALiveCore) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("convert-full");
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--full", "--signal", "SIGABRT", "-o", dir / "t.dmp"}).exit_code, 0);
  std::string core = converted(dir / "t.dmp", dir / "t.core");
  testing::GdbResult gdb = testing::gdb_backtraces(testing::target_path(), core);
  ASSERT_EQ(gdb.run.exit_code, 0) << gdb.run.err;
  EXPECT_EQ(tids_of(gdb.threads), testing::report_tids(*target)) << gdb.run.out;
  for (const auto& t : target->report()["threads"]) {
    const auto& frames = gdb.threads[t["tid"].get<pid_t>()];
    std::string function = t["function"];
    EXPECT_NE(std::find(frames.begin(), frames.end(), function), frames.end())
        << function << ": " << ::testing::PrintToString(frames) << gdb.run.out;
  }
  EXPECT_EQ(gdb.terminated_by, "SIGABRT");
  testing::Backtraces eu = testing::eu_stack(testing::target_path(), core);
  EXPECT_EQ(tids_of(eu), testing::report_tids(*target));
  // The heap, from the minidump's Memory64List.
  auto segments = testing::elf_segments(core);
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  auto word = testing::core_memory(core, segments, heap + 4096, 8);
  ASSERT_TRUE(word.has_value());
  uint64_t value = 0;
  std::memcpy(&value, word->data(), 8);
  EXPECT_EQ(value, testing::expected_heap_word(4096));
}

TEST(Convert, ASmallMinidumpGivesACoreWithOnlyItsMemoryThatGdbUnwinds) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("convert-small");
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "-o", dir / "t.dmp"}).exit_code, 0);
  CommandResult r = testing::run_cli({"convert", dir / "t.dmp", "-o", dir / "t.core"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no signal masks"), std::string::npos) << r.err;
  auto segments = testing::elf_segments(dir / "t.core");
  ASSERT_FALSE(segments.empty());
  // The heap was not in the minidump: its PT_LOAD is there, its bytes are not (never zeros).
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  EXPECT_FALSE(testing::core_memory(dir / "t.core", segments, heap, 8).has_value());
  bool heap_mapped = false;
  for (const auto& s : segments) heap_mapped |= s.type == 1 && s.vaddr <= heap && heap < s.vaddr + s.memory_size;
  EXPECT_TRUE(heap_mapped);
  testing::GdbResult gdb = testing::gdb_backtraces(testing::target_path(), dir / "t.core");
  ASSERT_EQ(gdb.run.exit_code, 0) << gdb.run.err;
  EXPECT_EQ(tids_of(gdb.threads), testing::report_tids(*target)) << gdb.run.out;
  // Every thread unwinds through libc to its park function: gdb found the shared libraries
  // through the link_map list rebuilt from the LinuxDsoDebug stream.
  EXPECT_NE(r.err.find("rebuilt from LinuxDsoDebug"), std::string::npos) << r.err;
  for (const auto& t : target->report()["threads"]) {
    const auto& frames = gdb.threads[t["tid"].get<pid_t>()];
    std::string function = t["function"];
    EXPECT_NE(std::find(frames.begin(), frames.end(), function), frames.end())
        << function << ": " << ::testing::PrintToString(frames) << gdb.run.out;
  }
}

TEST(Convert, LldbsMinidumpBecomesACore) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("convert-lldb");
  CommandResult saved = testing::lldb_save_minidump(target->pid(), dir / "lldb.dmp");
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  std::string core = converted(dir / "lldb.dmp", dir / "lldb.core");
  testing::Backtraces eu = testing::eu_stack(testing::target_path(), core);
  EXPECT_EQ(tids_of(eu), testing::report_tids(*target));
}

TEST(Convert, RefusesWhatItCannotConvertAndKeepsExistingFiles) {
  TempDir dir("convert-refuse");
  std::string text = dir / "notes.txt";
  FILE* f = std::fopen(text.c_str(), "w");
  std::fputs("not a dump", f);
  std::fclose(f);
  CommandResult r = testing::run_cli({"convert", text, "-o", dir / "x.core"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("neither a minidump"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"notes.txt"});
  // An ELF program is not a core, and is called what it is.
  r = testing::run_cli({"convert", testing::target_path(), "-o", dir / "x.dmp"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a core"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"notes.txt"});
  // An existing file is kept, whichever the direction: a core's minidump does not replace it.
  auto target = TargetProcess::spawn({});
  std::string core = dir / "t.core";
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "-o", core}).exit_code, 0);
  r = testing::run_cli({"convert", core, "-o", text});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("exists"), std::string::npos) << r.err;
  std::vector<uint8_t> kept = testing::file_bytes(text);
  EXPECT_EQ(std::string(kept.begin(), kept.end()), "not a dump");
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"notes.txt", "t.core"}));
}

}  // namespace
}  // namespace snapdump
