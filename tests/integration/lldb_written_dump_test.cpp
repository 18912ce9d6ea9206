// A dump another writer made: LLDB 16 attaches to a live snapdump_target and writes it with its
// own minidump plugin (720-byte thread contexts, an uninitialised CPU vendor). snapdump's
// reader and `snapdump inspect` (text and --json) must read it without a problem: every
// thread with the registers LLDB saw, every module with its build-id.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "snapdump/format/constants.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/hostile_text.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::run_command;
using snapdump::testing::TargetProcess;

class LldbWrittenDump : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    target_ = TargetProcess::spawn({"--heap-mib", "1"}).release();
    path_ = new std::string(testing::temp_dump_path("lldb-save-core.dmp"));
    auto lldb = testing::lldb_save_minidump(target_->pid(), *path_);
    saved_ = new testing::CommandResult(lldb);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*path_);
    delete target_;
    delete path_;
    delete saved_;
  }
  void SetUp() override {
    ASSERT_EQ(saved_->exit_code, 0) << saved_->out << saved_->err;
    ASSERT_TRUE(std::filesystem::exists(*path_)) << saved_->out << saved_->err;
  }

  // The thread of the report's `kind`, blocked in the same call for as long as the target lives.
  static uint32_t tid_of(const char* kind) {
    for (const auto& t : target_->report()["threads"]) {
      if (t["kind"] == kind) return t["tid"].get<uint32_t>();
    }
    return 0;
  }

  static TargetProcess* target_;
  static std::string* path_;
  static testing::CommandResult* saved_;
};

TargetProcess* LldbWrittenDump::target_ = nullptr;
std::string* LldbWrittenDump::path_ = nullptr;
testing::CommandResult* LldbWrittenDump::saved_ = nullptr;

TEST_F(LldbWrittenDump, TheTargetRunsOnAfterLldbDetached) {
  ASSERT_TRUE(target_->alive());
  const uint64_t before = target_->heartbeat()["iterations"].get<uint64_t>();
  usleep(50'000);
  EXPECT_GT(target_->heartbeat()["iterations"].get<uint64_t>(), before);
}

TEST_F(LldbWrittenDump, OurReaderReadsEveryThreadWithoutAProblem) {
  auto dump = reader::Minidump::open(*path_);
  EXPECT_TRUE(dump.problems().empty()) << dump.problems().at(0);
  auto threads = dump.threads();
  ASSERT_EQ(threads.size(), target_->report()["threads"].size());
  for (const auto& t : threads) {
    EXPECT_EQ(t.context_layout, reader::ContextLayout::lldb) << t.tid << " " << t.context_bytes.size();
    ASSERT_TRUE(t.context) << t.tid;
    EXPECT_EQ(t.context->context_flags & format::context_flags::kControl, format::context_flags::kControl);
    EXPECT_NE(t.context->rip, 0u);
    // LLDB saves the stack from rsp's region; rsp lies in it.
    EXPECT_GE(t.context->rsp, t.stack_start) << t.tid;
    EXPECT_LT(t.context->rsp, t.stack_start + t.stack.size()) << t.tid;
  }
}

// A thread blocked in read(2) on a pipe nobody writes keeps its registers: a capture of our
// own, made after LLDB detached, sees the same rip and rsp as LLDB saved; and LLDB, reading
// its own dump, puts frame #0 at the rip our reader decodes.
TEST_F(LldbWrittenDump, RegistersOfAParkedThreadAreTheOnesLldbSaw) {
  const uint32_t tid = tid_of("pipe_read");
  ASSERT_NE(tid, 0u);
  auto dump = reader::Minidump::open(*path_);
  auto threads = dump.threads();
  auto it = std::find_if(threads.begin(), threads.end(), [&](const auto& t) { return t.tid == tid; });
  ASSERT_NE(it, threads.end());
  ASSERT_TRUE(it->context);

  Snapshot snapshot = Snapshot::capture(target_->pid(), capture::kThreads | capture::kThreadContext);
  auto ours = std::find_if(snapshot.threads().begin(), snapshot.threads().end(),
                           [&](const ThreadEntry& t) { return static_cast<uint32_t>(t.tid) == tid; });
  ASSERT_NE(ours, snapshot.threads().end());
  EXPECT_EQ(it->context->rsp, ours->regs.rsp);
  EXPECT_EQ(it->context->rip, ours->regs.rip);
  EXPECT_EQ(it->context->rbx, ours->regs.rbx);
  EXPECT_EQ(it->context->rbp, ours->regs.rbp);

  auto lldb = testing::lldb_batch(*path_, {"thread list", "bt all"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.err;
  auto lldb_threads = testing::parse_lldb_backtraces(lldb.out);
  auto seen = std::find_if(lldb_threads.begin(), lldb_threads.end(), [&](const auto& t) { return t.tid == tid; });
  ASSERT_NE(seen, lldb_threads.end()) << lldb.out;
  ASSERT_FALSE(seen->frame_details.empty()) << lldb.out;
  EXPECT_EQ(seen->frame_details[0].pc, it->context->rip) << lldb.out;
  EXPECT_NE(std::find(seen->frames.begin(), seen->frames.end(), "park_in_pipe_read"), seen->frames.end()) << lldb.out;
}

TEST_F(LldbWrittenDump, ModulesHaveTheirNamesAndBuildIds) {
  auto dump = reader::Minidump::open(*path_);
  auto modules = dump.modules();
  const std::string exe = target_->report()["exe"].get<std::string>();
  auto main = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.name == exe; });
  ASSERT_NE(main, modules.end());
  EXPECT_FALSE(main->build_id.empty());
  EXPECT_TRUE(std::any_of(modules.begin(), modules.end(),
                          [](const auto& m) { return m.name.find("libc.so.6") != std::string::npos; }));

  // The build-id our own capture reads from the mapped file.
  Snapshot snapshot = Snapshot::capture(target_->pid(), capture::kVaSpace | capture::kVaSpaceSectionInformation);
  bool compared = false;
  for (const Region& r : snapshot.regions()) {
    if (r.elf && std::string_view(r.path) == exe && r.elf->load_address == main->base) {
      EXPECT_TRUE(std::equal(main->build_id.begin(), main->build_id.end(), r.elf->build_id.begin(), r.elf->build_id.end()));
      compared = true;
    }
  }
  EXPECT_TRUE(compared);
}

TEST_F(LldbWrittenDump, InspectShowsItAsTextAndExitsZero) {
  auto r = testing::run_cli({"inspect", *path_});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.find("Problems"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("context: lldb, 720 bytes"), std::string::npos) << r.out;
  // LLDB 16 leaves SystemInfo's CPU vendor uninitialised: whatever it holds is shown escaped.
  EXPECT_EQ(testing::terminal_safe_problem(r.out), "") << r.out;
}

TEST_F(LldbWrittenDump, InspectJsonHasEveryThreadsRegisters) {
  auto r = testing::run_cli({"inspect", *path_, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["problems"].empty()) << j["problems"].dump();
  auto dump = reader::Minidump::open(*path_);
  auto threads = dump.threads();
  ASSERT_EQ(j["threads"].size(), threads.size());
  for (size_t i = 0; i < threads.size(); ++i) {
    EXPECT_EQ(j["threads"][i]["context_layout"], "lldb");
    EXPECT_EQ(j["threads"][i]["context_size"], 720);
    ASSERT_TRUE(threads[i].context);
    EXPECT_EQ(j["threads"][i]["registers"]["rip"].get<uint64_t>(), threads[i].context->rip);
    EXPECT_EQ(j["threads"][i]["registers"]["rsp"].get<uint64_t>(), threads[i].context->rsp);
  }
  EXPECT_EQ(j["modules"].size(), dump.modules().size());
}

}  // namespace
}  // namespace snapdump
