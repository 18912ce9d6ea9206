// `snapdump dump --format core` and write_core (snapdump/core.h), read back by the readers people
// use on cores: gdb (compared with gcore's core of the same target in the same test), eu-stack,
// eu-unstrip, eu-readelf and LLDB, and by reading the file's program headers directly.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "snapdump/core.h"
#include "support/core_readers.h"
#include "support/external_readers.h"
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

bool has_frame(const std::vector<std::string>& frames, const std::string& function) {
  for (const std::string& f : frames) {
    if (f == function) return true;
  }
  return false;
}

// Every thread of the target, with the function the target says it parks in among its frames.
void expect_every_thread_named(const TargetProcess& target, const testing::Backtraces& threads, const char* reader) {
  EXPECT_EQ(tids_of(threads), testing::report_tids(target)) << reader;
  for (const auto& t : target.report()["threads"]) {
    pid_t tid = t["tid"].get<pid_t>();
    auto it = threads.find(tid);
    if (it == threads.end()) continue;
    std::string function = t["function"].get<std::string>();
    EXPECT_TRUE(has_frame(it->second, function))
        << reader << ": thread " << tid << " has no frame in " << function << ": " << ::testing::PrintToString(it->second);
  }
}

std::string core_of(const TargetProcess& target, const TempDir& dir, std::vector<std::string> extra = {}) {
  std::string path = dir / "target.core";
  std::vector<std::string> args{"dump", std::to_string(target.pid()), "--format", "core", "-o", path, "--no-progress"};
  args.insert(args.end(), extra.begin(), extra.end());
  CommandResult r = testing::run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return path;
}

TEST(CoreDump, GdbNamesEveryThreadsFramesAsInGcoresCore) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-gdb");
  std::string ours = core_of(*target, dir);
  std::string theirs = testing::run_gcore(target->pid(), dir / "gcore");
  ASSERT_FALSE(theirs.empty()) << "gcore failed";
  testing::GdbResult a = testing::gdb_backtraces(testing::target_path(), ours);
  testing::GdbResult b = testing::gdb_backtraces(testing::target_path(), theirs);
  ASSERT_EQ(a.run.exit_code, 0) << a.run.err;
  // No warning but one about the XSAVE area, which gdb 13 cannot lay out when a CPU packs it
  // as AMD's do without PKRU (the kernel's own cores get the same; docs/core.md).
  for (const std::string& side : {a.run.err, a.run.out}) {
    for (size_t at = side.find("warning: "); at != std::string::npos; at = side.find("warning: ", at + 1)) {
      std::string line = side.substr(at, side.find('\n', at) - at);
      EXPECT_NE(line.find(".reg-xstate/"), std::string::npos) << line;
    }
  }
  EXPECT_EQ(a.run.err.find("BFD: "), std::string::npos) << a.run.err;
  expect_every_thread_named(*target, a.threads, "gdb on snapdump's core");
  expect_every_thread_named(*target, b.threads, "gdb on gcore's core");
  // The same threads, each with the same frames, function by function, as gdb's own core.
  ASSERT_EQ(tids_of(a.threads), tids_of(b.threads));
  for (const auto& [tid, frames] : a.threads) EXPECT_EQ(frames, b.threads[tid]) << "thread " << tid;
  // Without a signal the main thread comes first, as in gcore's core.
  EXPECT_EQ(a.current_thread, target->pid());
  EXPECT_EQ(a.terminated_by, "");
}

TEST(CoreDump, EuStackUnwindsEveryThread) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-eustack");
  std::string core = core_of(*target, dir);
  CommandResult run;
  testing::Backtraces threads = testing::eu_stack(testing::target_path(), core, &run);
  EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
  expect_every_thread_named(*target, threads, "eu-stack");
}

TEST(CoreDump, EuUnstripFindsEachModulesBuildIdAsInTheLiveProcess) {
  auto target = TargetProcess::spawn({"--heap-mib", "4", "--libs"});
  TempDir dir("core-unstrip");
  std::string core = core_of(*target, dir);
  CommandResult live_run, core_run;
  auto live = testing::eu_unstrip_build_ids({"--pid", std::to_string(target->pid())}, &live_run);
  auto from_core = testing::eu_unstrip_build_ids({"--core", core, "-e", testing::target_path()}, &core_run);
  ASSERT_EQ(core_run.exit_code, 0) << core_run.err;
  ASSERT_GE(live.size(), 3u) << live_run.out << live_run.err;
  // The first page of every ELF mapping is in the core: each module's build-id is found there,
  // at the address the live process has it.
  for (const auto& [base, id] : live) {
    auto it = from_core.find(base);
    ASSERT_NE(it, from_core.end()) << std::hex << base << "\n" << core_run.out;
    EXPECT_FALSE(it->second.empty()) << std::hex << base << "\n" << core_run.out;
    EXPECT_EQ(it->second, id) << std::hex << base;
  }
}

TEST(CoreDump, NotesParseAndTheSignalIsTheCoresSignal) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-notes");
  // The signal on a thread other than the main one: that thread is listed first.
  pid_t thread = 0;
  for (const auto& t : target->report()["threads"]) {
    if (t["function"] == "park_in_nanosleep") thread = t["tid"].get<pid_t>();
  }
  ASSERT_NE(thread, 0);
  std::string core = core_of(*target, dir,
                             {"--signal", "SIGSEGV", "--exception-thread", std::to_string(thread), "--signal-code", "1",
                              "--exception-address", "0xdead0"});
  CommandResult notes = run_command({testing::tool_path("eu-readelf"), "-n", core});
  ASSERT_EQ(notes.exit_code, 0) << notes.err;
  EXPECT_EQ(notes.err, "");
  size_t threads = target->report()["threads"].size();
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = notes.out.find(what); at != std::string::npos; at = notes.out.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("CORE                 336  PRSTATUS"), threads) << notes.out;
  EXPECT_EQ(count("CORE                 136  PRPSINFO"), 1u) << notes.out;
  EXPECT_EQ(count("CORE                 128  SIGINFO"), 1u) << notes.out;
  EXPECT_EQ(count("  AUXV"), 1u) << notes.out;
  EXPECT_EQ(count("  FILE"), 1u) << notes.out;
  EXPECT_EQ(count("CORE                 512  FPREGSET"), threads) << notes.out;
  EXPECT_EQ(count("X86_XSTATE"), threads) << notes.out;
  EXPECT_NE(notes.out.find("si_signo: 11, si_errno: 0, si_code: 1"), std::string::npos) << notes.out;
  EXPECT_NE(notes.out.find("fault address: 0xdead0"), std::string::npos) << notes.out;
  EXPECT_NE(notes.out.find("fname: snapdump_target"), std::string::npos) << notes.out;
  EXPECT_NE(notes.out.find("pid: " + std::to_string(target->pid())), std::string::npos) << notes.out;

  testing::GdbResult gdb = testing::gdb_backtraces(testing::target_path(), core);
  EXPECT_EQ(gdb.terminated_by, "SIGSEGV") << gdb.run.out;
  EXPECT_EQ(gdb.current_thread, thread) << gdb.run.out;
}

TEST(CoreDump, LldbListsEveryThread) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-lldb");
  std::string core = core_of(*target, dir);
  CommandResult r = testing::lldb_batch(core, {"thread list", "bt all"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<pid_t> tids;
  for (const auto& t : testing::parse_lldb_backtraces(r.out)) tids.insert(static_cast<pid_t>(t.tid));
  EXPECT_EQ(tids, testing::report_tids(*target)) << r.out;
}

TEST(CoreDump, TheHeapIsInThePtLoadsAndUntouchedPagesAreHoles) {
  auto target = TargetProcess::spawn({"--heap-mib", "4", "--untouched-mib", "512"});
  TempDir dir("core-sparse");
  std::string core = core_of(*target, dir);
  auto segments = testing::elf_segments(core);
  ASSERT_FALSE(segments.empty());
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  for (uint64_t offset : {uint64_t{0}, uint64_t{8}, uint64_t{1} << 20, (uint64_t{4} << 20) - 8}) {
    auto word = testing::core_memory(core, segments, heap + offset, 8);
    ASSERT_TRUE(word.has_value()) << offset;
    uint64_t value = 0;
    std::memcpy(&value, word->data(), 8);
    EXPECT_EQ(value, testing::expected_heap_word(offset)) << offset;
  }
  const nlohmann::json* untouched = nullptr;
  for (const auto& m : target->report()["mappings"]) {
    if (m["kind"] == "untouched") untouched = &m;
  }
  ASSERT_NE(untouched, nullptr);
  uint64_t start = testing::parse_address((*untouched)["start"]);
  std::string marker = (*untouched)["marker"];
  auto bytes = testing::core_memory(core, segments, start + (*untouched)["marker_offset"].get<uint64_t>(), marker.size());
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), marker);
  auto zeros = testing::core_memory(core, segments, start, 4096);
  ASSERT_TRUE(zeros.has_value());
  EXPECT_EQ(*zeros, std::vector<uint8_t>(4096, 0));
  struct stat st {};
  ASSERT_EQ(stat(core.c_str(), &st), 0);
  EXPECT_GT(static_cast<uint64_t>(st.st_size), uint64_t{512} << 20);
  // 512 MiB of address space, one page of it written: the file holds about the heap and stacks.
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, uint64_t{64} << 20) << st.st_size;
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(CoreDump, AStreamHoldsTheSameLayoutWithZerosForHoles) {
  auto target = TargetProcess::spawn({"--heap-mib", "4", "--untouched-mib", "64"});
  TempDir dir("core-stream");
  std::string file = core_of(*target, dir);
  std::string streamed = dir / "streamed.core";
  CommandResult r = run_command({"/bin/sh", "-c",
                                 "'" SNAPDUMP_CLI_PATH "' dump " + std::to_string(target->pid()) +
                                     " --format core --no-progress -o - | cat > '" + streamed + "'"},
                                180000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("never touched (zeros)"), std::string::npos) << r.err;
  auto a = testing::elf_segments(file), b = testing::elf_segments(streamed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].vaddr, b[i].vaddr);
    EXPECT_EQ(a[i].file_size, b[i].file_size);
    EXPECT_EQ(a[i].offset, b[i].offset);
  }
  struct stat sa {}, sb {};
  ASSERT_EQ(stat(file.c_str(), &sa), 0);
  ASSERT_EQ(stat(streamed.c_str(), &sb), 0);
  EXPECT_EQ(sa.st_size, sb.st_size);
  testing::GdbResult gdb = testing::gdb_backtraces(testing::target_path(), streamed);
  expect_every_thread_named(*target, gdb.threads, "gdb on a streamed core");
}

TEST(CoreDump, CoredumpFilterAndFullChooseTheMemory) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-filter");
  // The executable's code: the first page only by default (its ELF header), all of it with
  // --full or with the filter's private-file-mapping bit.
  uint64_t main_address = testing::parse_address(target->report()["functions"]["park_in_nanosleep"]);
  auto code_segment = [&](const std::string& core) {
    for (const auto& s : testing::elf_segments(core)) {
      if (s.type == 1 && s.vaddr <= main_address && main_address < s.vaddr + s.memory_size) return s;
    }
    return testing::ElfSegment{};
  };
  std::string by_default = core_of(*target, dir);
  EXPECT_EQ(code_segment(by_default).file_size, 0u);
  std::string full = dir / "full.core";
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "--full", "-o", full}).exit_code, 0);
  testing::ElfSegment s = code_segment(full);
  EXPECT_EQ(s.file_size, s.memory_size);
  EXPECT_GT(s.file_size, 0u);
  std::string filtered = dir / "filtered.core";
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "--coredump-filter", "0x37", "-o", filtered}).exit_code, 0);
  EXPECT_EQ(code_segment(filtered).file_size, s.memory_size);
  // The process's own filter is what the CLI reads by default.
  ASSERT_TRUE(::testing::AssertionSuccess());
  {
    std::string path = "/proc/" + std::to_string(target->pid()) + "/coredump_filter";
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("0x37", f);
    std::fclose(f);
  }
  std::string own = dir / "own.core";
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "-o", own}).exit_code, 0);
  EXPECT_EQ(code_segment(own).file_size, s.memory_size);
  // Bad values are refused before the target is touched.
  CommandResult bad = testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "--coredump-filter", "0x400", "-o", dir / "bad.core"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("--coredump-filter 0x400"), std::string::npos) << bad.err;
  CommandResult typed = testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "--type", "WithFullMemory", "-o", dir / "bad.core"});
  EXPECT_NE(typed.exit_code, 0);
  EXPECT_NE(typed.err.find("--type"), std::string::npos) << typed.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad.core"));
}

// The API: a cancelled core leaves no file; VmPostRead redacts; IncludeThread leaves threads out.
class Steer : public DumpCallbacks {
 public:
  int cancel_after = -1;
  uint64_t secret = 0;
  size_t secret_size = 0;
  pid_t drop_thread = 0;
  int cancels = 0;
  CancelAnswer cancel() override {
    ++cancels;
    return {true, cancel_after >= 0 && cancels > cancel_after};
  }
  bool vm_start() override { return secret != 0; }
  VmReadAnswer vm_post_read(uint64_t address, std::span<uint8_t> buffer, size_t completed, int error) override {
    for (uint64_t a = std::max(address, secret); a < std::min(address + completed, secret + secret_size); ++a) {
      buffer[a - address] = 'X';
    }
    return {error, completed};
  }
  bool include_thread(uint32_t tid, ThreadWriteFlags&) override { return static_cast<pid_t>(tid) != drop_thread; }
};

TEST(CoreDump, ApiCancelLeavesNothingRedactionAndThreadChoiceApply) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-api");
  Snapshot snapshot = Snapshot::capture(target->pid(), capture_flags_for_core() | capture::kVaClone);
  Steer cancel;
  cancel.cancel_after = 3;
  CoreOptions options;
  options.callbacks = &cancel;
  try {
    write_core(snapshot, dir / "cancelled.core", options);
    ADD_FAILURE() << "the cancelled core was written";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::cancelled) << e.what();
  }
  EXPECT_TRUE(dir.entries().empty()) << ::testing::PrintToString(dir.entries());

  Steer steer;
  steer.secret = testing::parse_address(target->report()["markers"]["secret"]["addr"]);
  std::string text = target->report()["markers"]["secret"]["text"];
  steer.secret_size = text.size();
  pid_t dropped = 0;
  for (const auto& t : target->report()["threads"]) {
    if (t["function"] == "park_in_pipe_read") dropped = t["tid"].get<pid_t>();
  }
  steer.drop_thread = dropped;
  options.callbacks = &steer;
  CoreResult result = write_core(snapshot, dir / "steered.core", options);
  EXPECT_EQ(result.threads, target->report()["threads"].size() - 1);
  auto segments = testing::elf_segments(dir / "steered.core");
  auto bytes = testing::core_memory(dir / "steered.core", segments, steer.secret, text.size());
  ASSERT_TRUE(bytes.has_value());
  EXPECT_EQ(std::string(bytes->begin(), bytes->end()), std::string(text.size(), 'X'));
  // The core's own threads (gdb would add the left-out one back from glibc's thread list in the
  // core's memory, through libthread_db).
  testing::Backtraces threads = testing::eu_stack(testing::target_path(), dir / "steered.core");
  EXPECT_EQ(threads.count(dropped), 0u);
  EXPECT_EQ(threads.size(), target->report()["threads"].size() - 1);
}

TEST(CoreDump, AnExistingFileIsKeptUnlessForced) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("core-existing");
  std::string path = dir / "x.core";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    std::fputs("precious", f);
    std::fclose(f);
  }
  CommandResult r = testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "-o", path});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::file_size(path), 8u);
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "--force", "-o", path}).exit_code, 0);
  EXPECT_FALSE(testing::elf_segments(path).empty());
}

}  // namespace
}  // namespace snapdump
