// Programs nobody here wrote (issue 12, "Real programs in the test suite"): Debian's python3
// with threads, node with worker_threads, a JavaScript heap, a Buffer and a WebAssembly memory,
// and OpenJDK 17 running a single-file program with threads on a 512 MiB heap. Each is started
// once (program_run.h) and dumped by the snapdump command small, --full and --full --no-clone,
// and captured with `snapshot --json`, several times; the tests here check what each dump did to
// the program and what the dumps hold, read back with our reader, lldb-16 and Breakpad's
// minidump_stackwalk. docs/testing.md says why this tier exists.
#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "real_programs/program_run.h"
#include "real_programs/programs.h"
#include "snapdump/format/constants.h"
#include "snapdump/reader.h"
#include "support/core_readers.h"
#include "support/external_readers.h"
#include "support/read_dump.h"

namespace snapdump::testing {
namespace {

class RealProgram : public ::testing::TestWithParam<ProgramSpec> {
 protected:
  void SetUp() override {
    run_ = &ProgramRun::get(GetParam());
    ASSERT_EQ(run_->error(), "");
  }
  ProgramRun* run_ = nullptr;
};

std::string describe(const DumpRecord& r) {
  // snapshot --json prints pages of JSON: its first line or so is enough to say what happened.
  std::string said = (r.cli.out + r.cli.err).substr(0, 400);
  return r.mode + " round " + std::to_string(r.round) + ", exit " + std::to_string(r.cli.exit_code) + " (" + said + ")";
}

// Each dump and snapshot succeeded, and the program ran on: its heartbeat ticks, every blocked
// thread answers through its own blocking call, no child (so no zombie) and no pending signal
// is left to it.
TEST_P(RealProgram, EveryDumpLeavesTheProgramRunningAsBefore) {
  std::vector<std::string> expected_alive;
  for (const auto& name : run_->ready()["blocked"]) expected_alive.push_back(name.get<std::string>());
  std::sort(expected_alive.begin(), expected_alive.end());
  ASSERT_FALSE(expected_alive.empty());
  double max_next_beat = 0;
  for (const DumpMode& mode : dump_modes()) {
    int rounds = 0;
    for (const DumpRecord& r : run_->records()) {
      if (r.mode != mode.name) continue;
      ++rounds;
      SCOPED_TRACE(describe(r));
      EXPECT_EQ(r.cli.exit_code, 0);
      EXPECT_EQ(r.read_error, "");
      EXPECT_GT(r.beats_later, r.beats_after) << "the heartbeat stopped (nothing in " << r.next_beat_ms << " ms)";
      max_next_beat = std::max(max_next_beat, r.next_beat_ms);
      EXPECT_EQ(r.alive_after, expected_alive) << "a blocked thread no longer answers";
      EXPECT_EQ(r.children_after, r.children_before) << "a child was left to the program";
      EXPECT_TRUE(r.children_after.empty());
      EXPECT_TRUE(r.pending_after.empty()) << *r.pending_after.begin();
    }
    EXPECT_GE(rounds, dump_rounds()) << mode.name;
  }
  std::printf("[ heartbeat] the next tick after a dump came within %.1f ms\n", max_next_beat);
}

// The pause the command prints is the one the program's own heartbeat felt (the longest gap
// between its 1 ms ticks over the dump), within cli_truth_test.cpp's tolerance, in at least one
// round of each mode: a pause printed too short (the program was stopped longer than snapdump
// says) or too long is off in every round; noise on a busy machine is not (pause_agrees).
TEST_P(RealProgram, PrintedPauseIsWhatTheHeartbeatFelt) {
  for (const DumpMode& mode : dump_modes()) {
    std::string seen;
    bool agreed = false;
    for (const DumpRecord& r : run_->records()) {
      if (r.mode != mode.name || r.cli.exit_code != 0) continue;
      EXPECT_GT(r.printed_pause_ms, 0) << describe(r);
      agreed = agreed || pause_agrees(r);
      seen += " printed " + std::to_string(r.printed_pause_ms) + " ms, felt " + std::to_string(r.felt_ms) + " ms;";
    }
    EXPECT_TRUE(agreed) << mode.name << ": the printed pause was never what the program felt:" << seen;
  }
}

// The dump's ThreadList is the program's threads: every thread in /proc/PID/task both before and
// after the dump is in it, and nothing that was in neither.
TEST_P(RealProgram, DumpsHoldEveryThread) {
  for (const DumpRecord& r : run_->records()) {
    if (r.cli.exit_code != 0) continue;
    SCOPED_TRACE(describe(r));
    std::set<pid_t> captured = r.dump_tids;
    if (r.mode == "snapshot-json") {
      for (const auto& t : r.snapshot["threads"]) captured.insert(t.at("tid").get<pid_t>());
    }
    for (pid_t tid : r.tasks_before) {
      if (r.tasks_after.count(tid)) {
        EXPECT_TRUE(captured.count(tid)) << "thread " << tid << " is missing";
      }
    }
    for (pid_t tid : captured)
      EXPECT_TRUE(r.tasks_before.count(tid) || r.tasks_after.count(tid)) << "thread " << tid << " is not the program's";
    EXPECT_GE(captured.size(), 3u);
  }
}

// Every marker the program wrote (python: in bytes objects; node: in JavaScript strings, a
// Buffer and a WebAssembly memory; the JVM: in byte[]s on its heap) is in every full dump, at
// least as often as the program holds it.
TEST_P(RealProgram, FullDumpsHoldTheMarkers) {
  int full_dumps = 0;
  for (const DumpRecord& r : run_->records()) {
    if (r.cli.exit_code != 0 || (r.mode != "full" && r.mode != "full-no-clone")) continue;
    ++full_dumps;
    SCOPED_TRACE(describe(r));
    ASSERT_FALSE(run_->ready()["markers"].empty());
    for (const auto& [marker, copies] : run_->ready()["markers"].items()) {
      auto found = r.marker_counts.find(marker);
      ASSERT_NE(found, r.marker_counts.end()) << marker;
      EXPECT_GE(found->second, copies.get<std::size_t>()) << marker;
    }
  }
  EXPECT_GE(full_dumps, 2 * dump_rounds());
}

// The vDSO is code every thread may be in (clock_gettime, gettimeofday) and the only copy of
// it a reader has is the dump's: every full dump holds all of it, as the ModuleList gives its
// range. The kernel supplies its pages to whoever touches them, so a fork (the VA clone) has
// none of them in its page tables until then: "the pages that exist" must not be asked of it.
TEST_P(RealProgram, FullDumpsHoldTheWholeVdso) {
  for (const DumpRecord& r : run_->records()) {
    if (r.path.empty() || (r.mode != "full" && r.mode != "full-no-clone")) continue;
    SCOPED_TRACE(r.mode);
    reader::Minidump dump = read_dump(r.path);
    std::vector<reader::ModuleView> modules = dump.modules();
    auto vdso = std::find_if(modules.begin(), modules.end(), [](const auto& m) { return m.name == "[vdso]"; });
    ASSERT_NE(vdso, modules.end());
    std::vector<std::uint8_t> bytes(vdso->size);
    EXPECT_EQ(dump.read_memory(vdso->base, bytes), bytes.size())
        << "the dump holds only the first bytes of the vDSO [" << std::hex << vdso->base << ", " << vdso->base + vdso->size << ")";
  }
}

// The program's executable as a user names it to a debugger with a core: /usr/bin/java is an
// alternatives link to the JDK's launcher.
std::string executable(const ProgramSpec& spec) { return std::filesystem::canonical(spec.argv.front()); }

// A function's name as the readers print it, without the C++ parameter list gdb and eu-stack add
// when they name a frame from a mangled symbol ("thread_native_entry(Thread*)").
std::string bare_name(const std::string& function) { return function.substr(0, function.find('(')); }

// LLDB opens each kind of dump (the ELF core too) with the binaries on disk, lists every thread of
// the dump with a backtrace, and names frames in the runtime's module (libpython in python3.11,
// node, libjvm.so). The core is opened as `lldb EXE -c CORE`: without the executable LLDB takes
// the core's first NT_FILE entry for it, and the JVM maps its class-data archive (classes.jsa)
// below its launcher, so that entry is not the program (gcore's and the kernel's cores of a JVM
// are the same: NT_FILE is in address order).
TEST_P(RealProgram, LldbListsEveryThreadWithNamedRuntimeFrames) {
  for (const std::string mode : {"small", "full", "full-no-clone", "core"}) {
    const DumpRecord* r = run_->kept(mode);
    ASSERT_NE(r, nullptr) << mode;
    SCOPED_TRACE(mode);
    CommandResult lldb =
        lldb_batch(r->path, {"thread list", "bt all"}, 300000, mode == "core" ? executable(GetParam()) : "");
    ASSERT_EQ(lldb.exit_code, 0) << lldb.err;
    std::vector<LldbThread> threads = parse_lldb_backtraces(lldb.out);
    std::set<pid_t> listed;
    std::set<std::string> named;  // runtime-module functions LLDB named
    std::size_t runtime_frames = 0;
    for (const LldbThread& t : threads) {
      listed.insert(static_cast<pid_t>(t.tid));
      EXPECT_FALSE(t.frame_details.empty()) << "thread " << t.tid << " has no frame";
      for (const LldbFrame& f : t.frame_details) {
        if (f.module != GetParam().runtime_module) continue;
        ++runtime_frames;
        if (!f.function.empty() && f.function.rfind("___lldb_unnamed_symbol", 0) != 0) named.insert(f.function);
      }
    }
    EXPECT_EQ(listed, r->dump_tids);
    EXPECT_GT(runtime_frames, 0u) << lldb.out;
    for (const std::string& function : GetParam().named_functions)
      EXPECT_TRUE(named.count(function)) << function << " is not among the named frames:\n" << lldb.out;
  }
}

// gdb opens the core as a user does (gdb -batch EXE CORE), lists every thread the core holds,
// each with a backtrace, and names the runtime's functions LLDB names in the minidumps
// (_PyEval_EvalFrameDefault in python3.11, uv_run in node, thread_native_entry, JVM_MonitorWait
// and JVM_Sleep in libjvm.so): it found the modules from the core's NT_FILE and link map and
// unwound out of libc into them with the stack bytes the core holds.
TEST_P(RealProgram, GdbListsEveryThreadOfTheCoreWithNamedRuntimeFrames) {
  const DumpRecord* r = run_->kept("core");
  ASSERT_NE(r, nullptr);
  GdbResult gdb = gdb_backtraces(executable(GetParam()), r->path);
  ASSERT_EQ(gdb.run.exit_code, 0) << gdb.run.err;
  EXPECT_EQ(tids_of(gdb.threads), r->dump_tids) << gdb.run.out;
  std::set<std::string> functions;
  for (const auto& [tid, frames] : gdb.threads) {
    EXPECT_FALSE(frames.empty()) << "thread " << tid << " has no frame";
    for (const std::string& frame : frames) functions.insert(bare_name(frame));
  }
  for (const std::string& function : GetParam().named_functions)
    EXPECT_TRUE(functions.count(function)) << function << " is not among gdb's frames:\n" << gdb.run.out;
}

// eu-stack (libdwfl) unwinds every thread of the core from its registers, and names the
// runtime's first function somewhere; eu-unstrip finds each file module's build-id in the core
// (the first page of every ELF mapping is in it), the same one it reads from the live program.
TEST_P(RealProgram, ElfutilsReadTheCoreAsTheLiveProgram) {
  const DumpRecord* r = run_->kept("core");
  ASSERT_NE(r, nullptr);
  CommandResult run;
  Backtraces threads = eu_stack(executable(GetParam()), r->path, &run);
  EXPECT_EQ(tids_of(threads), r->dump_tids) << run.out << run.err;
  std::set<std::string> functions;
  for (const auto& [tid, frames] : threads) {
    EXPECT_FALSE(frames.empty()) << "thread " << tid << " has no frame";
    for (const std::string& frame : frames) functions.insert(bare_name(frame));
  }
  EXPECT_TRUE(functions.count(GetParam().named_functions.front())) << run.out;

  CommandResult from_core, from_pid;
  std::map<uint64_t, std::string> in_core = eu_unstrip_build_ids({"--core", r->path}, &from_core);
  std::map<uint64_t, std::string> live =
      eu_unstrip_build_ids({"--pid", std::to_string(run_->target().pid())}, &from_pid);
  ASSERT_FALSE(in_core.empty()) << from_core.out << from_core.err;
  std::size_t compared = 0;
  for (const auto& [start, build_id] : in_core) {
    auto now = live.find(start);
    if (now == live.end()) continue;  // unloaded since the core (the JVM and node load and drop libraries)
    ++compared;
    EXPECT_EQ(build_id, now->second) << "the module at 0x" << std::hex << start;
    EXPECT_NE(build_id, "") << "the module at 0x" << std::hex << start << " has no build-id in the core";
  }
  EXPECT_GT(compared, in_core.size() / 2) << from_core.out << from_pid.out;
}

// minidump_stackwalk walks every thread of each kind of dump, and with the runtime module's
// Breakpad symbols (made by the package's dump_syms) names frames in it.
TEST_P(RealProgram, StackwalkListsEveryThreadWithNamedRuntimeFrames) {
  std::string why;
  std::string symbols = run_->symbol_store(&why);
  ASSERT_NE(symbols, "") << why;
  for (const std::string mode : {"small", "full", "full-no-clone"}) {
    const DumpRecord* r = run_->kept(mode);
    ASSERT_NE(r, nullptr) << mode;
    SCOPED_TRACE(mode);
    StackwalkResult walk = run_minidump_stackwalk(r->path, symbols, 300000);
    ASSERT_TRUE(walk.ok) << walk.err;
    EXPECT_EQ(walk.thread_frames.size(), r->dump_tids.size()) << walk.raw;
    EXPECT_NE(std::find(walk.modules.begin(), walk.modules.end(), GetParam().runtime_module), walk.modules.end());
    // Machine-readable frames: "THREAD|FRAME|MODULE|FUNCTION|FILE|LINE|OFFSET".
    std::size_t named = 0;
    std::istringstream lines(walk.raw);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> fields;
      for (std::size_t at = 0;;) {
        std::size_t bar = line.find('|', at);
        fields.push_back(line.substr(at, bar - at));
        if (bar == std::string::npos) break;
        at = bar + 1;
      }
      if (fields.size() == 7 && fields[2] == GetParam().runtime_module && !fields[3].empty()) ++named;
    }
    EXPECT_GT(named, 0u) << walk.raw;
  }
}

// The ModuleList entry of the runtime's module spans its code: every executable mapping of that
// file from the module's base up to the next module, and no farther than the file's size (plus
// segment alignment) from its base, is inside [base, base + SizeOfImage). (V8 maps node's
// builtins again far above the image: those mappings are not the module.)
// Breakpad attributes a frame to the module whose range holds its pc, so a module cut short
// leaves the runtime's frames nameless and its stacks unwalkable.
TEST_P(RealProgram, RuntimeModuleSpansItsCode) {
  const DumpRecord* r = run_->kept("small");
  ASSERT_NE(r, nullptr);
  reader::Minidump dump = read_dump(r->path);
  auto maps = dump.text_stream(static_cast<std::uint32_t>(format::StreamType::LinuxMaps));
  ASSERT_TRUE(maps) << "the small dump has no LinuxMaps stream";
  std::vector<reader::ModuleView> modules = dump.modules();
  std::sort(modules.begin(), modules.end(), [](const auto& a, const auto& b) { return a.base < b.base; });
  auto runtime = std::find_if(modules.begin(), modules.end(), [&](const auto& m) {
    return std::filesystem::path(m.name).filename() == GetParam().runtime_module;
  });
  ASSERT_NE(runtime, modules.end());
  const std::uint64_t next = std::next(runtime) == modules.end() ? UINT64_MAX : std::next(runtime)->base;
  const std::uint64_t reach = std::filesystem::file_size(runtime->name) + (64u << 20);
  std::size_t code = 0;
  std::istringstream lines(*maps);
  for (std::string line; std::getline(lines, line);) {
    // "start-end perms offset dev inode path"
    std::istringstream fields(line);
    std::string range, perms, offset, dev, inode, path;
    fields >> range >> perms >> offset >> dev >> inode >> path;
    if (path != runtime->name || perms.find('x') == std::string::npos) continue;
    const std::uint64_t start = std::stoull(range, nullptr, 16);
    const std::uint64_t end = std::stoull(range.substr(range.find('-') + 1), nullptr, 16);
    if (start < runtime->base || start >= next || start - runtime->base >= reach) continue;
    ++code;
    EXPECT_LE(end, runtime->base + runtime->size)
        << line << "\nlies outside the ModuleList's " << runtime->name << " [" << std::hex << runtime->base << ", "
        << runtime->base + runtime->size << ")";
  }
  EXPECT_GT(code, 0u) << *maps;
}

// Every region's VmFlags (dc, MADV_DONTFORK, among them: snapdump clears it for the clone's fork
// and sets it again in the pause) are the same after each dump as before it; regions the program
// mapped, unmapped or mprotected meanwhile aside, of which there are few.
TEST_P(RealProgram, VmFlagsAreTheSameAfterEachDump) {
  for (const DumpRecord& r : run_->records()) {
    SCOPED_TRACE(r.mode + " round " + std::to_string(r.round));
    std::size_t same_range = 0, dontfork = 0;
    for (const auto& [start, before] : r.flags_before) {
      auto after = r.flags_after.find(start);
      // "start-end perms": a region the program mprotected meanwhile (V8 does, all the time)
      // has other rd/wr/ex flags by its own doing; snapdump changes no protection.
      auto range = [](const std::string& flags) { return flags.substr(0, flags.find(' ', flags.find(' ') + 1)); };
      if (after == r.flags_after.end() || range(after->second) != range(before)) continue;
      ++same_range;
      dontfork += has_dontfork(before);
      EXPECT_EQ(after->second, before);
    }
    EXPECT_GT(same_range, r.flags_before.size() * 8 / 10) << "most regions should be there before and after";
    // V8 marks its heap so: hundreds of regions in a node with two workers.
    if (GetParam().name == "Node") {
      EXPECT_GT(dontfork, 10u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Python, RealProgram, ::testing::Values(kPython),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Node, RealProgram, ::testing::Values(kNode),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Java, RealProgram, ::testing::Values(kJava),
                         [](const auto& info) { return info.param.name; });

// The programs exit and their dumps go when the test binary ends.
class EndRuns : public ::testing::Environment {
 public:
  void TearDown() override { ProgramRun::end_all(); }
};
[[maybe_unused]] const auto* const kEndRuns = ::testing::AddGlobalTestEnvironment(new EndRuns);

}  // namespace
}  // namespace snapdump::testing
