// The target is never harmed: it sees no stall beyond the pause, no EINTR from calls the kernel
// restarts, no zombie, and it runs on whatever happens to snapdump. Errors name their cause.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "snapdump/snapshot.h"
#include "support/foreign_tracer.h"
#include "support/proc_state.h"
#include "support/target_process.h"
#include "support/target_unharmed.h"

namespace snapdump {
namespace {

using snapdump::testing::TargetProcess;

constexpr CaptureFlags kContextFlags =
    capture::kThreads | capture::kThreadContext | capture::kThreadContextExtended | capture::kVaSpace;

using snapdump::testing::thread_states;

uint64_t eintr_of(const nlohmann::json& hb, const std::string& name) {
  if (!hb.contains("eintr") || !hb["eintr"].contains(name)) return 0;
  return hb["eintr"][name].get<uint64_t>();
}

class PauseTest : public ::testing::TestWithParam<bool> {};

TEST_P(PauseTest, HeartbeatSeesNoStallBeyondThePauseAndNoEintr) {
  auto target = TargetProcess::spawn({"--heap-mib", "64"});
  // The heartbeat ticks every millisecond; what it sees beyond its tick is the pause plus
  // scheduling noise on a shared machine. A capture that kept the target stopped for its whole
  // run (reading /proc, ELF files) would show tens of milliseconds more in every round; noise
  // (the sanitized tree on a loaded machine once saw 45 ms against a 14 ms pause) does not repeat
  // itself, so the best of three rounds is held to the bound. Every round must be free of EINTR.
  uint64_t best_excess = UINT64_MAX;
  std::string rounds;
  for (int round = 0; round < 3 && best_excess >= 15'000'000; ++round) {
    target->command("reset");
    Snapshot snap = Snapshot::capture(target->pid(), kContextFlags | (GetParam() ? capture::kVaClone : 0));
    uint64_t pause_ns = static_cast<uint64_t>(snap.pause().count());
    snap.free();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    auto hb = target->heartbeat();
    uint64_t stall = hb["max_stall_ns"].get<uint64_t>();
    best_excess = std::min(best_excess, stall > pause_ns ? stall - pause_ns : 0);
    rounds += "pause " + std::to_string(pause_ns) + " ns, heartbeat " + hb.dump() + "\n";
    for (const char* name : {"sd-nanosleep", "sd-piperead", "sd-futex", "sd-accept", "sd-heartbeat"}) {
      EXPECT_EQ(eintr_of(hb, name), 0u) << name << " saw EINTR: " << hb.dump();
    }
    EXPECT_EQ(thread_states(target->pid()).find('t'), std::string::npos);
  }
  EXPECT_LT(best_excess, 15'000'000u) << rounds;
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutClone, PauseTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Clone" : "AuxiliaryPages"; });

TEST(Unrestartable, EpollWaitReturnsEintrUnderAStopUnlessLeftRunning) {
  auto target = TargetProcess::spawn({});
  target->command("reset");
  Snapshot::capture(target->pid(), kContextFlags).free();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // signal(7): epoll_wait is never restarted after a stop; ptrace stops count. Measured, so a
  // kernel that changes this shows up here.
  EXPECT_EQ(eintr_of(target->heartbeat(), "sd-epoll"), 1u);

  target->command("reset");
  CaptureOptions options;
  options.leave_unrestartable_running = true;
  Snapshot snap = Snapshot::capture(target->pid(), kContextFlags, context::kAll, options);
  const ThreadEntry* epoll = nullptr;
  for (const ThreadEntry& t : snap.threads()) {
    if (t.name == "sd-epoll") epoll = &t;
  }
  ASSERT_NE(epoll, nullptr);
  EXPECT_EQ(epoll->capture, ThreadCapture::left_running);
  EXPECT_TRUE(epoll->syscall_number == 232 || epoll->syscall_number == 281 || epoll->syscall_number == 441)
      << epoll->syscall_number;  // epoll_wait, epoll_pwait, epoll_pwait2
  EXPECT_NE(epoll->regs.rip, 0u);
  EXPECT_NE(epoll->regs.rsp, 0u);
  snap.free();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(eintr_of(target->heartbeat(), "sd-epoll"), 0u);
}

using snapdump::testing::expect_no_child_and_no_sigchld;

// The clone is an orphan from the pause on (src/linux/va_clone.h): never the target's child, and
// after free dead, reaped or left to init, never to the target or the target's parent (this
// test process).
TEST(CloneSafety, NoZombieAndNoSignalAfterFree) {
  auto target = TargetProcess::spawn({});
  target->command("reset");
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kThreads);
  pid_t clone = *snap.va_clone_pid();
  auto while_held = target->command("children");
  EXPECT_TRUE(while_held["children"].empty()) << while_held.dump();
  EXPECT_NE(testing::process_state(clone).parent, target->pid());
  snap.free();
  expect_no_child_and_no_sigchld(*target);
  std::string why;
  EXPECT_TRUE(testing::dead_and_not_left_to(clone, {target->pid(), getpid()}, &why)) << why;
  EXPECT_TRUE(target->alive());
}

// A child subreaper is handed every orphan beneath it, so the clone cannot be orphaned away from
// it: the helper that forks the clone (src/linux/va_clone.h) is adopted by the target, snapdump
// sees that and keeps the helper as the clone's parent; on free the helper reaps the clone and
// the target reaps the helper. The target gets the SIGCHLD any subreaper gets for an adopted
// orphan (docs/capture.md), and no zombie.
TEST(CloneSafety, SubreaperTargetAdoptsTheCloneHelperAndIsLeftNoZombie) {
  auto target = TargetProcess::spawn({"--subreaper"});
  target->command("reset");
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kThreads);
  pid_t clone = *snap.va_clone_pid();
  pid_t helper = testing::process_state(clone).parent;
  EXPECT_EQ(testing::process_state(helper).parent, target->pid());
  snap.free();
  auto children = target->command("children");
  EXPECT_TRUE(children["children"].empty()) << children.dump();
  EXPECT_FALSE(testing::process_state(clone).exists);
  EXPECT_FALSE(testing::process_state(helper).exists);
  auto hb = target->heartbeat();
  EXPECT_EQ(eintr_of(hb, "sd-nanosleep"), 0u);
  EXPECT_TRUE(target->alive());
}

// Containers: a target in its own PID namespace numbers its children differently from
// snapdump, and every wait4 injected into it must use its numbering (os::read_namespace_pids);
// the target sees its own /proc (--mount-proc), as in a container;
// snapdump's number would reap a wrong child of the target, or none.

// A capture whose clone cannot be an orphan: the helper that forks it is the target's child and
// stays the clone's parent while the snapshot lives (src/linux/va_clone.h); on free the helper
// reaps the clone and the target reaps the helper. After free the target has no child, no
// SIGCHLD waits in it, and the clone and helper are gone.
void expect_clone_kept_and_reaped_in(TargetProcess& target) {
  target.command("reset");
  Snapshot snap = Snapshot::capture(target.pid(), capture::kVaClone | capture::kThreads);
  pid_t clone = *snap.va_clone_pid();
  pid_t helper = testing::process_state(clone).parent;
  EXPECT_NE(helper, target.pid());
  EXPECT_EQ(testing::process_state(helper).parent, target.pid());
  snap.free();
  expect_no_child_and_no_sigchld(target);
  EXPECT_FALSE(testing::process_state(clone).exists);
  EXPECT_FALSE(testing::process_state(helper).exists);
  EXPECT_TRUE(target.alive());
}

// The init of a namespace adopts every orphan in it, so its clone's helper stays its child, reaped
// by the target under the helper's number in the namespace.
TEST(CloneSafety, PidNamespaceInitTargetReapsItsCloneByItsOwnNumber) {
  auto target = TargetProcess::spawn_via({"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc"}, {});
  ASSERT_EQ(target->report()["pid"].get<int>(), 1);
  expect_clone_kept_and_reaped_in(*target);
}

// A member whose parent is the namespace's init: an orphaned clone would land among the
// parent's children, so its helper stays the target's child, reaped in the target under its own
// number.
TEST(CloneSafety, PidNamespaceChildOfInitKeepsItsCloneAndReapsItByItsOwnNumber) {
  auto target = TargetProcess::spawn_via({"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc",
                                          "/bin/sh", "-c", "\"$0\" \"$@\"; exit $?"},
                                         {});
  ASSERT_GT(target->report()["pid"].get<int>(), 1);
  expect_clone_kept_and_reaped_in(*target);
}

// Deeper in a namespace: the helper is reaped by the target under its own number, and the
// orphaned clone goes to the namespace's init (the outer shell), neither the target nor its
// parent (the inner shell).
TEST(CloneSafety, PidNamespaceGrandchildOfInitLeavesItsCloneToTheInit) {
  auto target = TargetProcess::spawn_via(
      {"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "/bin/sh", "-c",
       "/bin/sh -c '\"$0\" \"$@\"; exit $?' \"$0\" \"$@\"; exit $?"},
      {});
  ASSERT_GT(target->report()["pid"].get<int>(), 2);
  target->command("reset");
  pid_t parent = testing::process_state(target->pid()).parent;
  Snapshot snap = Snapshot::capture(target->pid(), capture::kVaClone | capture::kThreads);
  pid_t clone = *snap.va_clone_pid();
  testing::ProcessState held = testing::process_state(clone);
  EXPECT_NE(held.parent, target->pid());
  EXPECT_NE(held.parent, parent);
  EXPECT_EQ(held.parent, testing::process_state(parent).parent) << "the namespace's init";
  auto while_held = target->command("children");
  EXPECT_TRUE(while_held["children"].empty()) << while_held.dump();
  snap.free();
  expect_no_child_and_no_sigchld(*target);
  std::string why;
  EXPECT_TRUE(testing::dead_and_not_left_to(clone, {target->pid(), parent}, &why)) << why;
  EXPECT_TRUE(target->alive());
}

TEST(Errors, NoSuchProcess) {
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  try {
    Snapshot::capture(child, capture::kThreads);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::no_such_process);
    EXPECT_NE(std::string(e.what()).find(std::to_string(child)), std::string::npos) << e.what();
  }
}

TEST(Errors, OwnProcessIsNotSupportedAndSaysWhatToDo) {
  // This process, and one of its other threads (a TID of this thread group).
  std::atomic<bool> stop{false};
  std::atomic<pid_t> live{0};
  std::thread running([&] {
    live = gettid();
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (live == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (pid_t pid : {getpid(), live.load()}) {
    try {
      Snapshot::capture(pid, capture::kThreads | capture::kVaClone);
      ADD_FAILURE() << "capturing this process (" << pid << ") succeeded";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::not_supported) << e.what();
      std::string what = e.what();
      EXPECT_NE(what.find("cannot ptrace itself"), std::string::npos) << what;
      EXPECT_NE(what.find("helper"), std::string::npos) << what;
      EXPECT_NE(what.find("MiniDumpWriteDump(GetCurrentProcess()"), std::string::npos) << what;
    }
  }
  stop = true;
  running.join();
}

TEST(Errors, AnotherTracerIsNamed) {
  auto target = TargetProcess::spawn({});
  testing::ForeignTracer tracer(target->pid());
  try {
    Snapshot::capture(target->pid(), capture::kThreads);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::already_traced);
    EXPECT_NE(std::string(e.what()).find(std::to_string(tracer.pid())), std::string::npos) << e.what();
  }
}

TEST(Errors, PermissionDeniedNamesTheUids) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to drop to another uid";
  auto target = TargetProcess::spawn({});
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t child = fork();
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
    std::string message = "no error";
    int code = 1;
    try {
      Snapshot::capture(target->pid(), capture::kThreads);
    } catch (const Error& e) {
      message = e.what();
      code = e.code() == Errc::permission_denied ? 0 : 2;
    }
    (void)!write(out[1], message.data(), message.size());
    _exit(code);
  }
  close(out[1]);
  int status = 0;
  waitpid(child, &status, 0);
  char buf[512] = {};
  (void)!read(out[0], buf, sizeof buf - 1);
  close(out[0]);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << buf;
  EXPECT_NE(std::string(buf).find("uid"), std::string::npos) << buf;
}

TEST(Errors, TargetExitingMidCaptureGivesAClearError) {
  auto target = TargetProcess::spawn({});
  pid_t pid = target->pid();
  setenv("SNAPDUMP_TEST_STALL_AT", "before-stop:400", 1);
  std::thread killer([pid] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    kill(pid, SIGKILL);
  });
  try {
    Snapshot::capture(pid, kContextFlags | capture::kVaClone);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.code() == Errc::process_exited || e.code() == Errc::no_such_process) << e.what();
  }
  unsetenv("SNAPDUMP_TEST_STALL_AT");
  killer.join();
}

TEST(Errors, ReservedAndInconsistentFlagsAreRefused) {
  auto target = TargetProcess::spawn({});
  auto code_of = [&](CaptureFlags f, CaptureOptions o = {}) {
    try {
      Snapshot::capture(target->pid(), f, context::kAll, o);
    } catch (const Error& e) {
      return e.code();
    }
    return Errc::internal;
  };
  EXPECT_EQ(code_of(capture::kReserved00000002), Errc::invalid_argument);
  EXPECT_EQ(code_of(capture::kVaSpaceSectionInformation), Errc::invalid_argument);
  EXPECT_EQ(code_of(capture::kCreateBreakawayOptional), Errc::invalid_argument);
  CaptureOptions hold;
  hold.hold = true;
  EXPECT_EQ(code_of(capture::kVaClone, hold), Errc::invalid_argument);
  EXPECT_EQ(code_of(capture::kIptTrace), Errc::not_supported);
}

}  // namespace
}  // namespace snapdump
