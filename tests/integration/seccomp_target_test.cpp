// Sandboxed targets: a process under a seccomp filter runs the clone() and wait4() snapdump
// injects through that filter. A filter that would kill the target, raise SIGSYS in it or just
// refuse the call gets nothing injected and a capture error naming the filter and the fix; the
// target lives on, running, unsignalled, childless. A filter that allows the calls still gets
// its VA clone.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/proc_state.h"
#include "support/read_dump.h"
#include "support/target_process.h"
#include "support/target_unharmed.h"

namespace snapdump {
namespace {

using snapdump::testing::parse_address;
using snapdump::testing::TargetProcess;

// Alive, no thread left in a tracing stop, no child, no signal waiting, and still ticking.
void expect_unharmed(TargetProcess& target) {
  ASSERT_TRUE(target.alive()) << target.stderr_text();
  EXPECT_EQ(snapdump::testing::thread_states(target.pid()).find_first_of("tT"), std::string::npos);
  snapdump::testing::expect_no_child_and_no_sigchld(target);
  uint64_t before = target.heartbeat()["iterations"];
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GT(target.heartbeat()["iterations"].get<uint64_t>(), before);
}

struct Refusal {
  const char* mode;
  Errc code;
  const char* call;    // the call the message names
  const char* effect;  // what the filter would have done
};

void PrintTo(const Refusal& r, std::ostream* os) { *os << "--seccomp " << r.mode; }

class RefusingFilter : public ::testing::TestWithParam<Refusal> {};

TEST_P(RefusingFilter, NothingIsInjectedAndTheErrorSaysWhy) {
  const Refusal& r = GetParam();
  auto target = TargetProcess::spawn({"--threads", "3", "--seccomp", r.mode});
  try {
    Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
    ADD_FAILURE() << "a VA clone was made through the '" << r.mode << "' filter";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_EQ(e.code(), r.code) << what;
    EXPECT_NE(what.find("seccomp"), std::string::npos) << what;
    EXPECT_NE(what.find(r.call), std::string::npos) << what;
    EXPECT_NE(what.find(r.effect), std::string::npos) << what;
    EXPECT_NE(what.find("--no-clone"), std::string::npos) << what;
  }
  expect_unharmed(*target);
  // The fix the message names works: auxiliary pages inject nothing.
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  EXPECT_EQ(snap.memory_mode(), MemoryMode::auxiliary_pages);
  std::string path = snapdump::testing::temp_dump_path(std::string("seccomp-") + r.mode);
  EXPECT_GT(write_minidump(snap, path, {}).bytes, 0u);
  std::remove(path.c_str());
  snap.free();
  expect_unharmed(*target);
}

INSTANTIATE_TEST_SUITE_P(
    Filters, RefusingFilter,
    ::testing::Values(Refusal{"kill-clone", Errc::not_supported, "clone(", "kill the process"},
                      Refusal{"kill-clone-vm", Errc::not_supported, "CLONE_VM", "kill the process"},
                      Refusal{"trap-wait4", Errc::not_supported, "wait4(", "SIGSYS"},
                      Refusal{"errno-clone", Errc::not_supported, "clone(", "fail"}),
    [](const auto& info) {
      std::string name = info.param.mode;
      for (char& c : name) c = c == '-' ? '_' : c;
      return name;
    });

TEST(AllowingFilter, ATargetWhoseFilterLetsTheCallsThroughStillGetsItsClone) {
  auto target = TargetProcess::spawn({"--threads", "3", "--seccomp", "allow", "--heap-mib", "4"});
  ASSERT_EQ(target->report()["options"]["seccomp"], "allow");
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  EXPECT_EQ(snap.memory_mode(), MemoryMode::clone);
  ASSERT_TRUE(snap.va_clone_pid().has_value());
  target->command("overwrite-heap");
  uint64_t word = 0;
  ASSERT_EQ(snap.read_memory(heap + 800, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&word), 8)), 8u);
  EXPECT_EQ(word, snapdump::testing::expected_heap_word(800));  // the capture's bytes, from the clone
  snap.free();
  expect_unharmed(*target);
}

TEST(SeccompCli, AFullDumpOfATargetThatKillsOnCloneSaysToUseNoCloneAndThatWorks) {
  auto target = TargetProcess::spawn({"--threads", "2", "--seccomp", "kill-clone", "--heap-mib", "2"});
  std::string path = snapdump::testing::temp_dump_path("seccomp-cli");
  auto refused = snapdump::testing::run_command(
      {SNAPDUMP_CLI_PATH, "dump", std::to_string(target->pid()), "--full", "-o", path, "--no-progress"}, 120000);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("seccomp"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("--no-clone"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(path));
  expect_unharmed(*target);
  auto copied = snapdump::testing::run_command(
      {SNAPDUMP_CLI_PATH, "dump", std::to_string(target->pid()), "--full", "--no-clone", "-o", path, "--no-progress"},
      120000);
  EXPECT_EQ(copied.exit_code, 0) << copied.err;
  EXPECT_TRUE(snapdump::testing::read_dump(path).problems().empty());
  std::filesystem::remove(path);
  expect_unharmed(*target);
}

}  // namespace
}  // namespace snapdump
