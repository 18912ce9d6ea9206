// view::CoreView on real cores of a running target: snapdump's own (write_core of one snapshot,
// compared with that snapshot's view field by field), gdb's gcore's, and `snapdump inspect` of
// a core's summary; a real core cut at many lengths still reads what it holds. `inspect --stacks`
// of cores is tested with the other stacks (cli_stacks_test.cpp).
#include <signal.h>
#include <sys/stat.h>
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

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "snapdump/core.h"
#include "snapdump/error.h"
#include "snapdump/snapshot.h"
#include "support/core_readers.h"
#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/target_process.h"
#include "support/temp_dir.h"
#include "view/core_view.h"
#include "view/snapshot_view.h"

namespace snapdump {
namespace {

using nlohmann::json;
using testing::CommandResult;
using testing::TargetProcess;
using testing::TempDir;

std::string hex(const std::vector<uint8_t>& bytes) {
  std::string s;
  for (uint8_t b : bytes) s += fmt::format("{:02x}", b);
  return s;
}

std::set<pid_t> tids_of(const view::ProcessView& v) {
  std::set<pid_t> out;
  for (const view::ThreadState& t : v.threads()) out.insert(t.tid);
  return out;
}

void expect_heap_words(const view::ProcessView& v, const TargetProcess& target) {
  uint64_t heap = testing::parse_address(target.report()["heap"]["addr"]);
  for (uint64_t offset : {uint64_t{0}, uint64_t{8}, uint64_t{1} << 20, (uint64_t{4} << 20) - 8}) {
    uint64_t word = 0;
    ASSERT_EQ(v.read_memory(heap + offset, {reinterpret_cast<uint8_t*>(&word), 8}), 8u) << offset;
    EXPECT_EQ(word, testing::expected_heap_word(offset)) << offset;
  }
}

// Every module eu-unstrip finds in the core, at the same base with the same build-id.
void expect_unstrip_build_ids(const view::CoreView& core, const std::string& path) {
  CommandResult run;
  auto expected = testing::eu_unstrip_build_ids({"--core", path, "-e", testing::target_path()}, &run);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_GE(expected.size(), 3u) << run.out;
  std::map<uint64_t, std::string> ours;
  for (const view::Module& m : core.modules()) ours[m.base] = hex(m.build_id);
  for (const auto& [base, id] : expected) {
    if (id.empty()) continue;
    ASSERT_TRUE(ours.count(base)) << std::hex << base << "\n" << run.out;
    EXPECT_EQ(ours[base], id) << std::hex << base;
  }
}

TEST(CoreView, SnapdumpsCoreReadsBackAsTheSnapshotItWasWrittenFrom) {
  auto target = TargetProcess::spawn({"--heap-mib", "4", "--libs"});
  TempDir dir("coreview-ours");
  std::string path = dir / "t.core";
  Snapshot snapshot = Snapshot::capture(target->pid(), capture_flags_for_core() | capture::kVaClone);
  write_core(snapshot, path);
  view::SnapshotView live(snapshot);
  view::CoreView core = view::CoreView::open(path);
  EXPECT_EQ(core.problems(), std::vector<std::string>{});

  EXPECT_EQ(core.process().pid, target->pid());
  EXPECT_EQ(core.process().parent_pid, live.process().parent_pid);
  EXPECT_EQ(core.process().uid, live.process().uid);
  EXPECT_EQ(core.process().name, "snapdump_target");
  EXPECT_EQ(core.process().image_path, testing::target_path());
  EXPECT_EQ(core.process().auxv, live.process().auxv);
  EXPECT_EQ(core.process().command_line, live.process().command_line);  // short enough for psargs

  ASSERT_EQ(tids_of(core), tids_of(live));
  EXPECT_EQ(tids_of(core), testing::report_tids(*target));
  for (const view::ThreadState& t : core.threads()) {
    const view::ThreadState* same = nullptr;
    for (const view::ThreadState& l : live.threads()) same = l.tid == t.tid ? &l : same;
    ASSERT_NE(same, nullptr);
    EXPECT_EQ(t.regs.rip, same->regs.rip) << t.tid;
    EXPECT_EQ(t.regs.rsp, same->regs.rsp) << t.tid;
    EXPECT_EQ(std::memcmp(&t.regs, &same->regs, sizeof t.regs), 0) << t.tid;
    ASSERT_TRUE(t.fpregs.has_value());
    EXPECT_EQ(std::memcmp(&*t.fpregs, &*same->fpregs, sizeof *t.fpregs), 0) << t.tid;
    EXPECT_EQ(t.xsave, same->xsave) << t.tid;
    EXPECT_EQ(t.blocked_signals, same->blocked_signals) << t.tid;
    EXPECT_EQ(t.name, t.tid == target->pid() ? "snapdump_target" : "") << t.tid;
  }
  EXPECT_FALSE(core.signal().has_value());
  expect_heap_words(core, *target);

  // Each of the core's mappings lies in one of the process's, with its protection and file.
  for (const view::Mapping& m : core.mappings()) {
    const view::Mapping* in = nullptr;
    for (const view::Mapping& l : live.mappings()) in = l.start <= m.start && m.end <= l.end ? &l : in;
    ASSERT_NE(in, nullptr) << std::hex << m.start;
    EXPECT_EQ(m.prot, in->prot) << std::hex << m.start;
    if (in->path.starts_with("/")) {
      EXPECT_EQ(m.path, in->path) << std::hex << m.start;
      EXPECT_EQ(m.file_offset, in->file_offset + (m.start - in->start)) << std::hex << m.start;
    }
  }
  // The modules the capture identified, at the same bases with the same build-ids.
  size_t compared = 0;
  for (const view::Module& l : live.modules()) {
    if (l.build_id.empty() || !l.path.starts_with("/")) continue;
    const view::Module* same = nullptr;
    for (const view::Module& m : core.modules()) same = m.base == l.base ? &m : same;
    ASSERT_NE(same, nullptr) << l.path;
    EXPECT_EQ(same->path, l.path);
    EXPECT_EQ(same->build_id, l.build_id) << l.path;
    ++compared;
  }
  EXPECT_GE(compared, 3u);
  expect_unstrip_build_ids(core, path);
}

TEST(CoreView, GcoresCoreReadsBack) {
  auto target = TargetProcess::spawn({"--heap-mib", "4", "--libs"});
  TempDir dir("coreview-gcore");
  std::string path = testing::run_gcore(target->pid(), dir / "gcore");
  ASSERT_FALSE(path.empty()) << "gcore failed";
  view::CoreView core = view::CoreView::open(path);
  EXPECT_EQ(core.problems(), std::vector<std::string>{});
  EXPECT_EQ(core.process().pid, target->pid());
  EXPECT_EQ(core.process().parent_pid, getpid());
  EXPECT_EQ(core.process().name, "snapdump_target");
  EXPECT_EQ(core.process().image_path, testing::target_path());
  EXPECT_EQ(tids_of(core), testing::report_tids(*target));
  // gdb's siginfo notes are its own attach's SIGSTOP, with no pr_cursig: no signal.
  EXPECT_FALSE(core.signal().has_value());
  expect_heap_words(core, *target);
  expect_unstrip_build_ids(core, path);
}

// The kernel's own core, of a target killed by a sent SIGSEGV.
TEST(CoreView, TheKernelsCoreReadsBack) {
  TempDir dir("coreview-kernel");
  auto target = testing::spawn_for_kernel_core(dir.path, {"--heap-mib", "4", "--libs"});
  std::set<pid_t> tids = testing::report_tids(*target);
  pid_t pid = target->pid();
  std::string path = testing::kernel_core(*target, dir.path);
  view::CoreView core = view::CoreView::open(path);
  EXPECT_EQ(core.problems(), std::vector<std::string>{});
  EXPECT_EQ(core.process().pid, pid);
  EXPECT_EQ(core.process().parent_pid, getpid());
  EXPECT_EQ(core.process().name, "snapdump_target");
  EXPECT_EQ(core.process().image_path, testing::target_path());
  EXPECT_EQ(tids_of(core), tids);
  ASSERT_TRUE(core.signal().has_value());
  EXPECT_EQ(core.signal()->signo, SIGSEGV);
  EXPECT_EQ(core.signal()->code, SI_USER);
  EXPECT_EQ(core.signal()->address, 0u);  // a sent signal: si_addr's place holds the sender
  EXPECT_EQ(core.signal()->thread, core.threads().front().tid);
  expect_heap_words(core, *target);
  expect_unstrip_build_ids(core, path);
}

std::string dump_core(const TargetProcess& target, const std::string& path) {
  CommandResult r = testing::run_cli({"dump", std::to_string(target.pid()), "--format", "core", "-o", path, "--no-progress"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  return path;
}

// The command without the machine's debuginfod servers: the target's binaries are here.
CommandResult cli(std::vector<std::string> args) {
  std::vector<std::string> argv = {"/usr/bin/env", "DEBUGINFOD_URLS=", SNAPDUMP_CLI_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  return testing::run_command(argv, 180000);
}

TEST(CoreView, InspectSummarizesACore) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("coreview-inspect");
  pid_t thread = 0;
  for (const auto& t : target->report()["threads"]) {
    if (t["function"] == "park_in_nanosleep") thread = t["tid"].get<pid_t>();
  }
  ASSERT_NE(thread, 0);
  std::string path = dir / "t.core";
  CommandResult d = testing::run_cli({"dump", std::to_string(target->pid()), "--format", "core", "-o", path, "--no-progress", "--signal",
                                      "SIGSEGV", "--exception-thread", std::to_string(thread), "--signal-code", "1",
                                      "--exception-address", "0xdead0"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  CommandResult j = cli({"inspect", "--json", path});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json doc = json::parse(j.out);
  EXPECT_EQ(doc["process"]["pid"], target->pid());
  EXPECT_EQ(doc["process"]["name"], "snapdump_target");
  EXPECT_EQ(doc["signal"]["signal"], "SIGSEGV");
  EXPECT_EQ(doc["signal"]["thread"], thread);
  EXPECT_EQ(doc["signal"]["address"], 0xdead0);
  std::set<pid_t> tids;
  for (const json& t : doc["threads"]) tids.insert(t["tid"].get<pid_t>());
  EXPECT_EQ(tids, testing::report_tids(*target));
  bool target_module = false;
  for (const json& m : doc["modules"]) {
    if (m["path"] == testing::target_path()) target_module = m["build_id"].get<std::string>().size() == 40;
  }
  EXPECT_TRUE(target_module) << doc["modules"].dump();
  EXPECT_EQ(doc["problems"], json::array());

  CommandResult text = cli({"inspect", path});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find(fmt::format("Process: {} snapdump_target (parent {}", target->pid(), getpid())), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(fmt::format("Signal: SIGSEGV (code 1) at 0xdead0 in thread {}\n", thread)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(fmt::format("Threads ({}):", tids.size())), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("Not in a core ("), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find("Problems"), std::string::npos) << text.out;

  CommandResult stream = cli({"inspect", "--stream", "ThreadList", path});
  EXPECT_EQ(stream.exit_code, 2);
  EXPECT_NE(stream.err.find("is an ELF core"), std::string::npos) << stream.err;
}

// A real core cut short (a disk that filled, a copy interrupted): read as far as it goes, the
// problem said first, and `inspect` shows what is there and exits with status 1.
TEST(CoreView, ARealCoreCutShortReadsWhatItHolds) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("coreview-cut");
  std::string path = dump_core(*target, dir / "t.core");
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(whole.size(), size_t{4} << 20);
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  size_t threads = testing::report_tids(*target).size();
  // Lengths through the headers and notes (every 97th byte), then through the memory.
  std::vector<size_t> lengths;
  for (size_t n = 0; n < 64 * 1024 && n < whole.size(); n += 97) lengths.push_back(n);
  for (size_t n = 64 * 1024; n < whole.size(); n += whole.size() / 37) lengths.push_back(n);
  for (size_t length : lengths) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(length));
    try {
      view::CoreView core = view::CoreView::from_bytes(std::move(cut), "cut");
      ASSERT_FALSE(core.problems().empty()) << length;
      EXPECT_TRUE(core.problems().front().starts_with("truncated:")) << length << core.problems().front();
      EXPECT_LE(core.threads().size(), threads);
      uint64_t word = 0;
      if (core.read_memory(heap + 8, {reinterpret_cast<uint8_t*>(&word), 8}) == 8) {
        EXPECT_EQ(word, testing::expected_heap_word(8)) << length;
      }
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::corrupt_input);
      EXPECT_LT(length, 64u + 56u) << e.what();
    }
  }
  // The notes whole, the memory cut: every thread, and a clear exit status.
  std::string half = dir / "half.core";
  {
    std::ofstream out(half, std::ios::binary);
    out.write(reinterpret_cast<const char*>(whole.data()), static_cast<std::streamsize>(whole.size() / 2));
  }
  CommandResult r = cli({"inspect", half});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(fmt::format("Threads ({}):", threads)), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Problems (1):\n  truncated: "), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("the core is truncated (its end is missing)"), std::string::npos) << r.err;
  CommandResult s = cli({"inspect", "--stacks", half});
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_NE(s.out.find(fmt::format("{} threads", threads)), std::string::npos) << s.out;
}

TEST(CoreView, AProgramIsNotACore) {
  try {
    view::CoreView::open(testing::target_path());
    FAIL() << "opened a program as a core";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::corrupt_input);
    EXPECT_EQ(std::string(e.what()), testing::target_path() + " is not an ELF core: a shared object or PIE executable (ET_DYN) (e_type 3)");
  }
}

}  // namespace
}  // namespace snapdump
