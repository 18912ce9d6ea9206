// `snapdump convert CORE`: ELF cores (snapdump's, gdb's gcore's) written as minidumps that
// snapdump's reader, LLDB, minidump_stackwalk and minidump_dump take, holding every byte of
// memory the core holds and nothing else; a damaged core is converted as far as it can be read.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "support/core_readers.h"
#include "support/external_readers.h"
#include "support/hex.h"
#include "support/read_dump.h"
#include "support/run_cli.h"
#include "support/target_process.h"
#include "support/temp_dir.h"

namespace snapdump {
namespace {

using testing::CommandResult;
using testing::TargetProcess;
using testing::TempDir;

std::set<pid_t> dump_tids(const reader::Minidump& dump) {
  std::set<pid_t> out;
  for (const auto& t : dump.threads()) out.insert(static_cast<pid_t>(t.tid));
  return out;
}

// Every thread's park function, as LLDB names the frames of the converted minidump.
void expect_lldb_names_every_thread(const TargetProcess& target, const std::string& dump) {
  CommandResult lldb = testing::lldb_batch(dump, {"thread list", "bt all"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.err;
  std::map<pid_t, std::vector<std::string>> frames;
  for (const auto& t : testing::parse_lldb_backtraces(lldb.out)) frames[static_cast<pid_t>(t.tid)] = t.frames;
  for (const auto& t : target.report()["threads"]) {
    const auto& f = frames[t["tid"].get<pid_t>()];
    std::string function = t["function"];
    EXPECT_NE(std::find(f.begin(), f.end(), function), f.end()) << function << ": " << ::testing::PrintToString(f) << lldb.out;
  }
}

TEST(ConvertCore, SnapdumpsCoreBecomesAMinidumpEveryReaderTakes) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("convert-core");
  std::string core = dir / "t.core";
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "--signal", "SIGABRT", "-o", core})
                .exit_code,
            0);
  CommandResult r = testing::run_cli({"convert", core});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string path = dir / "t.dmp";  // the default: IN with .dmp
  EXPECT_NE(r.out.find("minidump"), std::string::npos) << r.out;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  reader::Minidump dump = testing::read_dump(path);
  EXPECT_TRUE(dump.problems().empty()) << dump.problems().front();
  EXPECT_EQ(dump_tids(dump), testing::report_tids(*target));
  // The heap came through the core's PT_LOAD bytes.
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  uint64_t word = 0;
  ASSERT_EQ(dump.read_memory(heap + 4096, {reinterpret_cast<uint8_t*>(&word), 8}), 8u);
  EXPECT_EQ(word, testing::expected_heap_word(4096));
  ASSERT_EQ(dump.exceptions().size(), 1u);
  EXPECT_EQ(dump.exceptions()[0].code, static_cast<uint32_t>(SIGABRT));
  EXPECT_EQ(dump.exceptions()[0].tid, static_cast<uint32_t>(target->pid()));
  ASSERT_TRUE(dump.misc_info().has_value());
  // The modules are the core's ELF mappings with the build-ids eu-unstrip reads from the core.
  std::map<uint64_t, std::string> unstrip = testing::eu_unstrip_build_ids({"--core", core});
  ASSERT_FALSE(unstrip.empty());
  size_t matched = 0;
  for (const auto& m : dump.modules()) {
    auto it = unstrip.find(m.base);
    if (it == unstrip.end() || it->second.empty()) continue;
    EXPECT_EQ(testing::to_hex(m.build_id), it->second) << m.name;
    ++matched;
  }
  EXPECT_GE(matched, 2u) << "the program and libc at least";
  // The core's thread registers, as the minidump's contexts.
  for (const auto& t : dump.threads()) {
    ASSERT_TRUE(t.context.has_value());
    EXPECT_FALSE(t.stack.empty()) << t.tid;
    EXPECT_GE(t.stack_start + 128, t.context->rsp - 128);
  }

  auto stackwalk = testing::run_minidump_stackwalk(path);
  EXPECT_TRUE(stackwalk.ok) << stackwalk.err;
  EXPECT_EQ(stackwalk.crash_reason, "SIGABRT");
  auto md = testing::run_minidump_dump(path);
  EXPECT_TRUE(md.ok) << md.err;
  expect_lldb_names_every_thread(*target, path);
}

TEST(ConvertCore, GcoresCoreBecomesAMinidumpLldbUnwinds) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("convert-gcore");
  std::string core = testing::run_gcore(target->pid(), dir / "g");
  std::string path = dir / "g.dmp";
  CommandResult r = testing::run_cli({"convert", core, "-o", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  reader::Minidump dump = testing::read_dump(path);
  EXPECT_EQ(dump_tids(dump), testing::report_tids(*target));
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  uint64_t word = 0;
  ASSERT_EQ(dump.read_memory(heap + 8192, {reinterpret_cast<uint8_t*>(&word), 8}), 8u);
  EXPECT_EQ(word, testing::expected_heap_word(8192));
  expect_lldb_names_every_thread(*target, path);
}

// minidump -> core -> minidump: the threads' registers and the memory survive both ways.
TEST(ConvertCore, AFullMinidumpRoundTripsThroughACore) {
  auto target = TargetProcess::spawn({"--heap-mib", "2"});
  TempDir dir("convert-round");
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--full", "-o", dir / "a.dmp"}).exit_code, 0);
  ASSERT_EQ(testing::run_cli({"convert", dir / "a.dmp", "-o", dir / "a.core"}).exit_code, 0);
  CommandResult r = testing::run_cli({"convert", dir / "a.core", "-o", dir / "b.dmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  reader::Minidump a = testing::read_dump(dir / "a.dmp");
  reader::Minidump b = testing::read_dump(dir / "b.dmp");
  ASSERT_EQ(dump_tids(a), dump_tids(b));
  for (const auto& ta : a.threads()) {
    for (const auto& tb : b.threads()) {
      if (ta.tid != tb.tid) continue;
      ASSERT_TRUE(ta.context && tb.context);
      EXPECT_EQ(ta.context->rip, tb.context->rip);
      EXPECT_EQ(ta.context->rsp, tb.context->rsp);
      EXPECT_EQ(ta.context->rbp, tb.context->rbp);
      EXPECT_EQ(ta.teb, tb.teb) << "fs_base";
      EXPECT_EQ(0, std::memcmp(ta.context->flt_save, tb.context->flt_save, sizeof ta.context->flt_save));
    }
  }
  uint64_t compared = 0;
  for (const auto& range : a.memory()) {
    if (!range.from_memory64) continue;
    std::vector<uint8_t> bytes(range.bytes.size());
    ASSERT_EQ(b.read_memory(range.address, bytes), bytes.size()) << std::hex << range.address;
    EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), range.bytes.begin())) << std::hex << range.address;
    compared += bytes.size();
  }
  EXPECT_GT(compared, uint64_t{2} << 20);
  EXPECT_EQ(a.modules().size(), b.modules().size());
}

// A core cut short converts as far as it reads: a whole minidump of what is left, with the damage
// named on standard error; a file that is not a core at all is refused and leaves nothing.
TEST(ConvertCore, ACutCoreConvertsWhatItHoldsAndSaysWhatIsMissing) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("convert-cut");
  std::string core = dir / "t.core";
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "-o", core}).exit_code, 0);
  uint64_t size = std::filesystem::file_size(core);
  std::filesystem::resize_file(core, size / 2);
  CommandResult r = testing::run_cli({"convert", core, "-o", dir / "cut.dmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("damaged"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
  reader::Minidump dump = testing::read_dump(dir / "cut.dmp");
  EXPECT_TRUE(dump.problems().empty()) << dump.problems().front();
  EXPECT_EQ(dump_tids(dump), testing::report_tids(*target));

  std::filesystem::resize_file(core, 16);
  r = testing::run_cli({"convert", core, "-o", dir / "none.dmp"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "none.dmp"));
}

}  // namespace
}  // namespace snapdump
