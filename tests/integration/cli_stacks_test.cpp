// `snapdump stacks PID` (issue 14): every thread of a real target named frame by frame from a
// small capture, unwound with libdwfl after the target resumed; a stripped copy of the target
// named through a real debuginfod server and, without one, by module and offset only; the
// pause the target felt; JSON that carries what the text shows; one message for a target that
// exits while it is captured; `inspect --stacks` of a minidump and of ELF cores (snapdump's,
// gcore's).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/core_readers.h"
#include "support/debuginfod_server.h"
#include "support/exit_race.h"
#include "support/external_readers.h"
#include "support/stalled_cli.h"
#include "support/target_process.h"
#include "support/temp_dir.h"

namespace snapdump {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::TargetProcess;

// The command with DEBUGINFOD_URLS empty unless `env` sets it: the machine's own servers
// (Debian's profile sets one) must not decide what a test sees, nor make it wait on the network.
testing::CommandResult cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {"/usr/bin/env", "DEBUGINFOD_URLS="};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(SNAPDUMP_CLI_PATH);
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run_command(argv, 120000);
}

json stacks_json(pid_t pid, const std::vector<std::string>& env = {}, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"stacks", std::to_string(pid), "--json"};
  args.insert(args.end(), more.begin(), more.end());
  auto r = cli(args, env);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out);
}

const json* thread_of(const json& doc, pid_t tid) {
  for (const json& t : doc["threads"])
    if (t["tid"].get<pid_t>() == tid) return &t;
  return nullptr;
}

std::vector<std::string> functions(const json& thread) {
  std::vector<std::string> out;
  for (const json& f : thread["frames"]) out.push_back(f.value("function", std::string("??")));
  return out;
}

const json* frame_named(const json& thread, const std::string& function) {
  for (const json& f : thread["frames"])
    if (f.value("function", "") == function) return &f;
  return nullptr;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The NT_GNU_BUILD_ID of an ELF file, as binutils' readelf prints it.
std::string build_id_of(const std::string& path) {
  auto r = testing::run_command({"/usr/bin/readelf", "-n", path});
  auto at = r.out.find("Build ID: ");
  if (r.exit_code != 0 || at == std::string::npos) return "";
  std::istringstream in(r.out.substr(at + 10));
  std::string id;
  in >> id;
  return id;
}

// The source file each thread's own function is in (tests/targets).
std::string source_of(const std::string& function) {
  if (function == "main") return "target_main.cpp";
  if (function == "heartbeat_loop") return "heartbeat.cpp";
  return "park_functions.cpp";
}

// Every thread the target started, named from its outermost frame to the blocking call: its own
// function with its source line, main's callers down to _start, a thread's start_thread and
// clone3; each frame found by CFI (the target and libc have it everywhere), no walk cut short.
TEST(Stacks, EveryThreadIsNamedFrameByFrame) {
  auto target = TargetProcess::spawn({"--threads", "6"});
  json doc = stacks_json(target->pid());
  EXPECT_EQ(doc["pid"].get<pid_t>(), target->pid());
  EXPECT_GT(doc["pause_ns"].get<uint64_t>(), 0u);
  ASSERT_EQ(doc["threads"].size(), target->report()["threads"].size()) << doc.dump(1);
  std::string build_id = build_id_of(testing::target_path());
  ASSERT_FALSE(build_id.empty());
  for (const json& expected : target->report()["threads"]) {
    pid_t tid = expected["tid"].get<pid_t>();
    std::string function = expected["function"].get<std::string>();
    const json* thread = thread_of(doc, tid);
    ASSERT_NE(thread, nullptr) << tid;
    auto names = functions(*thread);
    std::string shown = ::testing::PrintToString(names);
    EXPECT_FALSE(thread->contains("stopped")) << function << ": " << thread->dump();
    ASSERT_TRUE(contains(names, function)) << function << ": " << shown;
    if (function == "main") {
      EXPECT_EQ(names.back(), "_start") << shown;
      EXPECT_TRUE(contains(names, "__libc_start_call_main")) << shown;
    } else {
      EXPECT_EQ(names.back(), "__clone3") << shown;
      EXPECT_TRUE(contains(names, "start_thread")) << shown;
    }
    const json& own = *frame_named(*thread, function);
    EXPECT_TRUE(ends_with(own.value("source_file", ""), "tests/targets/" + source_of(function))) << own.dump();
    EXPECT_GT(own.value("line", 0), 0) << own.dump();
    EXPECT_EQ(own["module"].get<std::string>(), std::filesystem::canonical(testing::target_path()).string());
    EXPECT_EQ(own["build_id"].get<std::string>(), build_id);
    const json& frames = (*thread)["frames"];
    EXPECT_EQ(frames[0]["method"], "initial");
    EXPECT_TRUE(frames[0]["activation"].get<bool>());
    for (size_t i = 1; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i]["method"], "cfi") << function << " #" << i << ": " << frames[i].dump();
      EXPECT_FALSE(frames[i]["activation"].get<bool>());
    }
  }
  // Each module a frame is in is listed once with its build-id and the files it was read from.
  bool listed = false;
  for (const json& m : doc["modules"]) {
    if (m["build_id"] == build_id) {
      listed = true;
      EXPECT_EQ(m["elf_file"], m["path"]);
    }
  }
  EXPECT_TRUE(listed) << doc["modules"].dump(1);
}

// The text for people shows, thread by thread, the frames the JSON carries (the parked threads,
// which stay where they are between the two runs).
TEST(Stacks, TextShowsTheFramesTheJsonCarries) {
  auto target = TargetProcess::spawn({"--threads", "5"});
  json doc = stacks_json(target->pid());
  auto r = cli({"stacks", std::to_string(target->pid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("process " + std::to_string(target->pid()) + " (snapdump_target): " +
                       std::to_string(doc["threads"].size()) + " threads; the target was paused "),
            std::string::npos)
      << r.out;
  // "thread TID \"NAME\":" then "  #N  0xPC in FUNCTION+0xOFF (MODULE+0xOFF) at FILE:LINE".
  std::map<pid_t, std::vector<std::string>> text;
  std::istringstream lines(r.out);
  pid_t current = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("thread ", 0) == 0) {
      current = std::stoi(line.substr(7));
    } else if (current != 0 && line.rfind("  #", 0) == 0) {
      auto in = line.find(" in ");
      auto end = line.find_first_of("+ ", in + 4);
      text[current].push_back(line.substr(in + 4, end - in - 4));
    }
  }
  int compared = 0;
  for (const json& expected : target->report()["threads"]) {
    std::string name = expected["name"].get<std::string>();
    if (name == "sd-spin" || name == "sd-heartbeat" || expected["function"] == "main") continue;
    pid_t tid = expected["tid"].get<pid_t>();
    EXPECT_EQ(text[tid], functions(*thread_of(doc, tid))) << name;
    ++compared;
  }
  EXPECT_GE(compared, 4);
  EXPECT_NE(r.out.find("\nmodules:\n"), std::string::npos);
}

// A copy of the target without .debug_aranges, as Clang builds every program unless asked
// (-gdwarf-aranges): its frames still get their source lines, at the same addresses, from the
// compile unit that covers each (libdw 0.188 alone finds units through that section only).
TEST(Stacks, LinesWithoutDebugArangesComeFromTheCompileUnits) {
  testing::TempDir dir("stacks_no_aranges");
  std::string program = dir / "snapdump_target";
  ASSERT_EQ(testing::run_command({"/usr/bin/objcopy", "--remove-section", ".debug_aranges", testing::target_path(),
                                  program}).exit_code, 0);
  testing::CommandResult sections = testing::run_command({"/usr/bin/readelf", "-S", "-W", program});
  ASSERT_EQ(sections.out.find(".debug_aranges"), std::string::npos) << sections.out;
  ASSERT_NE(sections.out.find(".debug_line"), std::string::npos) << sections.out;

  auto target = TargetProcess::spawn_program({program, "--threads", "5"});
  json doc = stacks_json(target->pid());
  std::size_t checked = 0;
  for (const json& t : target->report()["threads"]) {
    std::string function = t["function"];
    if (function.rfind("park_in_", 0) != 0) continue;
    const json* thread = thread_of(doc, t["tid"].get<pid_t>());
    ASSERT_NE(thread, nullptr) << function;
    const json* own = frame_named(*thread, function);
    ASSERT_NE(own, nullptr) << function << ": " << thread->dump();
    EXPECT_TRUE(ends_with(own->value("source_file", ""), "tests/targets/park_functions.cpp")) << own->dump();
    EXPECT_GT(own->value("line", 0), 0) << own->dump();
    ++checked;
  }
  EXPECT_GE(checked, 4u);
}

// A stripped copy of the target (its debug information split off, its build-id kept): without
// a server its own frames are only module+offset; with a real debuginfod serving the debug file,
// they get their names and source lines, at the same addresses. --no-debuginfod says no to it.
TEST(Stacks, StrippedTargetIsNamedThroughDebuginfod) {
  ASSERT_FALSE(testing::debuginfod_path().empty()) << "debuginfod is not installed: scripts/setup.sh installs it";
  testing::TempDir dir("stacks_debuginfod");
  for (const char* sub : {"bin", "debug", "state", "cache"}) std::filesystem::create_directories(dir / sub);
  std::string program = dir / "bin/snapdump_target";
  std::string debug = dir / "debug/snapdump_target.debug";
  std::filesystem::copy_file(testing::target_path(), program);
  ASSERT_EQ(testing::run_command({"/usr/bin/objcopy", "--only-keep-debug", program, debug}).exit_code, 0);
  ASSERT_EQ(testing::run_command({"/usr/bin/strip", "--strip-all", program}).exit_code, 0);
  std::string build_id = build_id_of(program);
  ASSERT_EQ(build_id, build_id_of(testing::target_path()));
  ASSERT_EQ(build_id, build_id_of(debug));

  auto target = TargetProcess::spawn_program({program, "--threads", "5"});
  std::vector<std::pair<pid_t, std::string>> parked;
  for (const json& t : target->report()["threads"]) {
    std::string function = t["function"];
    if (function.rfind("park_in_", 0) == 0) parked.emplace_back(t["tid"].get<pid_t>(), function);
  }
  ASSERT_GE(parked.size(), 4u);
  // The frame that called the blocking function, in the stripped module: "??" without a server.
  auto caller_frame = [&](const json& doc, pid_t tid) -> json {
    for (const json& f : (*thread_of(doc, tid))["frames"])
      if (f.value("module", "") == std::filesystem::canonical(program).string()) return f;
    return json();
  };

  json bare = stacks_json(target->pid());
  for (auto& [tid, function] : parked) {
    json f = caller_frame(bare, tid);
    ASSERT_FALSE(f.is_null()) << function << ": " << thread_of(bare, tid)->dump();
    EXPECT_FALSE(f.contains("function")) << f.dump();
    EXPECT_FALSE(f.contains("source_file")) << f.dump();
    EXPECT_EQ(f["build_id"], build_id);
    EXPECT_TRUE(f.contains("module_offset"));
  }

  testing::DebuginfodServer server(dir / "debug", dir / "state");
  ASSERT_TRUE(server.wait_serves(build_id, 90000)) << server.log();
  std::vector<std::string> env = {"DEBUGINFOD_URLS=" + server.url(), "DEBUGINFOD_CACHE_PATH=" + (dir / "cache")};
  json named = stacks_json(target->pid(), env);
  for (auto& [tid, function] : parked) {
    json f = caller_frame(named, tid);
    ASSERT_FALSE(f.is_null()) << function;
    EXPECT_EQ(f.value("function", ""), function) << f.dump();
    EXPECT_TRUE(ends_with(f.value("source_file", ""), "tests/targets/park_functions.cpp")) << f.dump();
    EXPECT_GT(f.value("line", 0), 0);
    EXPECT_EQ(f["pc"], caller_frame(bare, tid)["pc"]) << "the same frame, now named";
    EXPECT_EQ(f["module_offset"], caller_frame(bare, tid)["module_offset"]);
  }
  bool from_cache = false;
  for (const json& m : named["modules"])
    if (m["build_id"] == build_id) from_cache = m["debug_file"].get<std::string>().rfind(dir / "cache", 0) == 0;
  EXPECT_TRUE(from_cache) << named["modules"].dump(1);

  std::filesystem::remove_all(dir / "cache");
  json refused = stacks_json(target->pid(), env, {"--no-debuginfod"});
  for (auto& [tid, function] : parked) EXPECT_FALSE(caller_frame(refused, tid).contains("function")) << function;
}

// A module whose file is gone (deleted, or replaced by an upgrade) has no CFI to unwind with:
// its frames are module+offset, the frames above them are found by the frame pointer (the target
// keeps it) and say so, and the walk still reaches clone3. Never a guess from scanning the stack.
TEST(Stacks, AModuleWithoutItsFileIsWalkedByTheFramePointerAndSaysSo) {
  testing::TempDir dir("stacks_deleted");
  std::string program = dir / "snapdump_target";
  std::filesystem::copy_file(testing::target_path(), program);
  auto target = TargetProcess::spawn_program({program, "--threads", "5"});
  std::filesystem::remove(program);
  json doc = stacks_json(target->pid());
  auto text = cli({"stacks", std::to_string(target->pid())});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  int checked = 0;
  for (const json& expected : target->report()["threads"]) {
    std::string function = expected["function"];
    if (function.rfind("park_in_", 0) != 0) continue;
    const json& frames = (*thread_of(doc, expected["tid"].get<pid_t>()))["frames"];
    size_t own = 0;
    while (own < frames.size() && frames[own].value("module", "").rfind(program, 0) != 0) ++own;
    ASSERT_LT(own + 1, frames.size()) << function << ": " << frames.dump();
    EXPECT_FALSE(frames[own].contains("function")) << frames[own].dump();
    EXPECT_EQ(frames[own]["method"], "cfi") << "libc's CFI found it";
    EXPECT_EQ(frames[own + 1]["method"], "frame pointer") << frames[own + 1].dump();
    EXPECT_EQ(frames[own + 1].value("function", ""), "start_thread");
    EXPECT_EQ(frames.back().value("function", ""), "__clone3");
    ++checked;
  }
  EXPECT_GE(checked, 4);
  EXPECT_NE(text.out.find("start_thread+0x"), std::string::npos);
  EXPECT_NE(text.out.find("[via frame pointer]"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("no ELF file found: frames are named by module and offset only"), std::string::npos)
      << text.out;
}

// The target is stopped only while the small capture copies its registers and stacks: what its
// heartbeat felt is what `stacks` printed, and for 17 threads it is well under a clone's pause.
TEST(Stacks, PauseIsTheSmallCapturesAsTheHeartbeatFeltIt) {
  auto target = TargetProcess::spawn({"--threads", "15"});
  ASSERT_GE(target->report()["threads"].size(), 16u);
  double best = 1e9, closest = 1e9;
  std::string seen;
  for (int attempt = 0; attempt < 5; ++attempt) {
    target->command("reset");
    json doc = stacks_json(target->pid());
    double printed = doc["pause_ns"].get<double>() / 1e6;
    double felt = target->heartbeat()["max_stall_ns"].get<double>() / 1e6;
    EXPECT_GT(printed, 0);
    // The heartbeat ticks every millisecond: it feels the pause plus up to a tick, and on a busy
    // 2-core machine (other builds, and the unwinding itself once the target runs again) whatever
    // else keeps it off a CPU; that noise only ever makes what it felt the larger. A quiet
    // moment shows the two agree: a printed pause far below what the heartbeat felt in every
    // attempt would be a pause the capture did not count.
    closest = std::min(closest, felt - printed);
    EXPECT_LT(felt, printed + 2000) << "a stop of seconds: the target was held";
    best = std::min(best, printed);
    seen += " " + std::to_string(printed) + "/" + std::to_string(felt);
  }
  std::printf("[ pause    ] printed/felt ms:%s\n", seen.c_str());
  EXPECT_LT(closest, std::max(15.0, best * 0.15)) << seen;
  // The issue asks for under 1 ms on a quiet machine (bench/stacks_bench measures it); the test
  // machine builds at the same time, so the best of five runs is held to a bound that a loaded
  // 2-core machine still meets and a capture that walked the memory or cloned would not. The
  // sanitized command is slower in everything it does (seen: 7.1 ms best of five under load).
#if defined(__SANITIZE_ADDRESS__)
  constexpr double kBoundMs = 15.0;
#else
  constexpr double kBoundMs = 5.0;
#endif
  EXPECT_LT(best, kBoundMs) << seen;
}

// A target that exits at any moment of `stacks` gets the capture's one message and exit status
// 1, or, when it exits after the capture, its stacks: never a crash or a half-printed answer.
TEST(Stacks, ATargetExitingDuringStacksGetsOneMessage) {
  setenv("DEBUGINFOD_URLS", "", 1);
  testing::ExitRace race;
  race.target_args = {"--threads", "8"};
  race.command = [](pid_t pid) { return std::vector<std::string>{"stacks", std::to_string(pid)}; };
  race.rounds = 10;
  race.max_delay_ms = 120;
  race.seed = 2024;
  int printed = testing::run_exit_race(race, [](const testing::ExitRaceRound& round) {
    if (round.exit_code == 0) {
      EXPECT_EQ(round.err, "");
      return;
    }
    EXPECT_EQ(round.exit_code, 1) << round.err;
    // Gone before the capture began: the command's first look at /proc finds no such process.
    bool one_message = testing::says_target_exited(round.err, round.pid) ||
                       round.err.find("no such process") != std::string::npos;
    EXPECT_TRUE(one_message) << "round " << round.index << ": " << round.err;
    EXPECT_EQ(std::count(round.err.begin(), round.err.end(), '\n'), 1) << round.err;
  });
  std::printf("[ outcome  ] %d printed, %d ended by the exit\n", printed, race.rounds - printed);
  // Neither outcome alone: the delays must reach both sides of the capture.
  EXPECT_LT(printed, race.rounds);
}

// `inspect --stacks` unwinds a dump as `stacks` unwinds the live process: the same frames for the
// parked threads, from the registers and stack memory the dump holds. `format`: the dump
// command's options (none: the default small minidump); `kind`: how the text names the file.
void expect_inspect_stacks_gives_live_frames(const std::string& name, const std::vector<std::string>& format,
                                             const std::string& kind) {
  auto target = TargetProcess::spawn({"--threads", "5"});
  std::string path = testing::temp_dump_path(name);
  std::filesystem::remove(path);
  std::vector<std::string> dump = {"dump", std::to_string(target->pid()), "-o", path, "--no-progress"};
  dump.insert(dump.end(), format.begin(), format.end());
  ASSERT_EQ(cli(dump).exit_code, 0);
  json live = stacks_json(target->pid());
  auto r = cli({"inspect", "--stacks", "--json", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json dumped = json::parse(r.out);
  EXPECT_FALSE(dumped.contains("pause_ns"));
  int compared = 0;
  for (const json& expected : target->report()["threads"]) {
    std::string function = expected["function"];
    if (function.rfind("park_in_", 0) != 0) continue;
    pid_t tid = expected["tid"].get<pid_t>();
    ASSERT_NE(thread_of(dumped, tid), nullptr);
    auto names = functions(*thread_of(dumped, tid));
    EXPECT_EQ(names, functions(*thread_of(live, tid))) << function;
    EXPECT_TRUE(contains(names, function));
    ++compared;
  }
  EXPECT_GE(compared, 4);
  auto text = cli({"inspect", "--stacks", path});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find(kind + " " + path + ": " + std::to_string(dumped["threads"].size()) + " threads\n"), std::string::npos)
      << text.out;
  std::filesystem::remove(path);
}

TEST(Stacks, InspectStacksOfAMinidumpGivesTheLiveFrames) {
  expect_inspect_stacks_gives_live_frames("stacks_inspect.dmp", {}, "dump");
}

// An ELF core, read through view::CoreView.
TEST(Stacks, InspectStacksOfACoreGivesTheLiveFrames) {
  expect_inspect_stacks_gives_live_frames("stacks_inspect.core", {"--format", "core"}, "core");
}

// Another writer's core of the target (gdb's, the kernel's): every thread named down to its
// function.
void expect_inspect_stacks_names_every_thread(const TargetProcess& target, const std::string& core) {
  auto r = cli({"inspect", "--stacks", "--json", core});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json dumped = json::parse(r.out);
  for (const json& expected : target.report()["threads"]) {
    pid_t tid = expected["tid"].get<pid_t>();
    ASSERT_NE(thread_of(dumped, tid), nullptr) << tid;
    auto names = functions(*thread_of(dumped, tid));
    EXPECT_TRUE(contains(names, expected["function"].get<std::string>())) << expected["function"] << ": " << ::testing::PrintToString(names);
  }
}

TEST(Stacks, InspectStacksOfAGcoreNamesEveryThreadsFunction) {
  auto target = TargetProcess::spawn({"--threads", "5"});
  testing::TempDir dir("stacks-gcore");
  std::string path = testing::run_gcore(target->pid(), dir / "gcore");
  ASSERT_FALSE(path.empty()) << "gcore failed";
  expect_inspect_stacks_names_every_thread(*target, path);
}

TEST(Stacks, InspectStacksOfAKernelCoreNamesEveryThreadsFunction) {
  testing::TempDir dir("stacks-kernel");
  auto target = testing::spawn_for_kernel_core(dir.path, {"--threads", "5"});
  expect_inspect_stacks_names_every_thread(*target, testing::kernel_core(*target, dir.path));
}

// A process that does not exist: the capture's message, exit status 1, nothing on stdout.
TEST(Stacks, NoSuchProcessIsAClearError) {
  auto r = cli({"stacks", "999999999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("snapdump: "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace snapdump
