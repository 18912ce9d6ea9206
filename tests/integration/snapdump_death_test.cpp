// What snapdump's own death or stop does to the target: nothing. snapdump is SIGKILLed (alone, or
// with its whole process group, as `timeout` and a terminal do) at each step of a capture, in
// every memory mode, or stopped (SIGSTOP, Ctrl-Z) while the target is paused or held; the target
// runs on with every thread unstopped, no child, no zombie, no pending signal and no EINTR, and
// no clone or helper is left running. The tracer process that does the ptrace work
// (src/linux/tracer_server.h) is what makes it so; the last tests check what shields it.
// tests/stress/kill_stress_test.cpp kills at random instants instead of chosen ones.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/proc_state.h"
#include "support/stalled_cli.h"
#include "support/target_process.h"
#include "support/target_unharmed.h"

namespace snapdump {
namespace {

using namespace std::chrono_literals;
using testing::StalledCli;
using testing::TargetProcess;

uint64_t eintr_of(const nlohmann::json& hb, const std::string& name) {
  if (!hb.contains("eintr") || !hb["eintr"].contains(name)) return 0;
  return hb["eintr"][name].get<uint64_t>();
}

// The target after snapdump died: running, no thread stopped, no child, no SIGCHLD, no EINTR
// from calls the kernel restarts, and no clone or helper running.
void expect_unharmed(TargetProcess& target, StalledCli& cli, pid_t tracer) {
  if (tracer != 0) {
    EXPECT_TRUE(testing::wait_gone(tracer, 5s)) << "the tracer " << tracer << " did not end";
  }
  EXPECT_TRUE(target.alive());
  std::string states = testing::thread_states(target.pid());
  EXPECT_EQ(states.find_first_of("tT"), std::string::npos) << states;
  auto hb = target.heartbeat();  // answers: the target runs
  for (const char* name : {"sd-nanosleep", "sd-piperead", "sd-futex", "sd-accept", "sd-heartbeat", "main"}) {
    EXPECT_EQ(eintr_of(hb, name), 0u) << name << ": " << hb.dump();
  }
  testing::expect_no_child_and_no_sigchld(target);
  if (pid_t clone = cli.announced_clone(); clone != 0) {
    std::string why;
    EXPECT_TRUE(testing::wait_gone(clone, 5s));
    EXPECT_TRUE(testing::dead_and_not_left_to(clone, {target.pid(), getpid()}, &why)) << why;
  }
}

struct KillCase {
  const char* mode;   // clone, aux, hold, kept (clone kept by a helper: target is a namespace init)
  const char* phase;  // a SNAPDUMP_TEST_STALL_AT phase
  bool group;         // kill the whole process group, as `timeout` and a terminal do
};

std::string case_name(const ::testing::TestParamInfo<KillCase>& info) {
  std::string s = std::string(info.param.mode) + "_" + info.param.phase + (info.param.group ? "_group" : "");
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

class KillTest : public ::testing::TestWithParam<KillCase> {};

TEST_P(KillTest, TargetRunsOnWhenSnapdumpIsKilled) {
  const KillCase& c = GetParam();
  std::string mode = c.mode;
  auto target = mode == "kept" ? TargetProcess::spawn_via(
                                     {"/usr/bin/unshare", "--pid", "--fork", "--kill-child", "--mount-proc"}, {})
                               : TargetProcess::spawn({});
  target->command("reset");
  std::vector<std::string> args = {"snapshot", std::to_string(target->pid())};
  if (mode == "clone" || mode == "kept") args.push_back("--clone");
  if (mode == "hold") args.push_back("--hold");
  StalledCli cli(args, c.phase);
  ASSERT_TRUE(cli.wait_stalled(c.phase)) << cli.stderr_text();
  pid_t tracer = cli.tracer();
  // Started before the pause; with nothing to hold (auxiliary pages) it has ended after it.
  if (mode != "aux" || std::string(c.phase) != "after-resume") {
    EXPECT_NE(tracer, 0) << "the tracer process starts before the pause";
  }
  kill(c.group ? -cli.pid() : cli.pid(), SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(cli.wait_exit(5s)));
  expect_unharmed(*target, cli, tracer);
}

INSTANTIATE_TEST_SUITE_P(
    EachStep, KillTest,
    ::testing::Values(KillCase{"clone", "before-stop", false}, KillCase{"clone", "in-pause", false},
                      KillCase{"clone", "helper-born", false}, KillCase{"clone", "second-helper-born", false},
                      KillCase{"clone", "helper-reaped", false}, KillCase{"clone", "helper-made", false},
                      KillCase{"clone", "clone-born", false},
                      KillCase{"clone", "after-clone", false}, KillCase{"clone", "after-resume", false},
                      KillCase{"clone", "in-pause", true}, KillCase{"clone", "helper-born", true},
                      KillCase{"aux", "in-pause", false}, KillCase{"aux", "after-resume", false},
                      KillCase{"hold", "in-pause", false}, KillCase{"hold", "after-resume", false},
                      KillCase{"hold", "after-resume", true}, KillCase{"kept", "helper-born", false}, KillCase{"kept", "helper-made", false},
                      KillCase{"kept", "clone-born", false}, KillCase{"kept", "after-resume", false}),
    case_name);

// snapdump stopped (SIGSTOP) in the middle of the pause: the pause runs in the tracer, which does
// not wait for snapdump, so the target resumes on time and snapdump finishes when continued.
TEST(StoppedSnapdump, ThePauseEndsWhileSnapdumpIsStopped) {
  auto target = TargetProcess::spawn({});
  target->command("reset");
  StalledCli cli({"snapshot", std::to_string(target->pid()), "--clone"}, "in-pause:300");
  ASSERT_TRUE(cli.wait_stalled("in-pause")) << cli.stderr_text();
  kill(cli.pid(), SIGSTOP);
  std::this_thread::sleep_for(600ms);
  // The tracer's 300 ms stall is over and it resumed the target while snapdump stays stopped.
  EXPECT_EQ(testing::process_state(cli.pid()).state, 'T');
  std::string states = testing::thread_states(target->pid());
  EXPECT_EQ(states.find('t'), std::string::npos) << states;
  EXPECT_EQ(eintr_of(target->heartbeat(), "sd-nanosleep"), 0u);
  kill(cli.pid(), SIGCONT);
  int status = cli.wait_exit(20s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cli.stderr_text();
}

// snapdump stopped while it holds the target (a --no-clone full dump), by SIGSTOP or by Ctrl-Z
// (SIGTSTP to its process group): the tracer lets the target go half a second later, and the
// dump, continued, fails saying why and leaves no file.
void expect_hold_given_up_when_stopped(int signal, bool group) {
  auto target = TargetProcess::spawn({"--heap-mib", "16"});
  target->command("reset");
  std::string path = testing::temp_dump_path(std::string("stopped_hold_") + std::to_string(signal));
  std::filesystem::remove(path);
  StalledCli cli({"dump", std::to_string(target->pid()), "--full", "--no-clone", "--no-progress", "-o", path},
                 "after-resume:1500");
  ASSERT_TRUE(cli.wait_stalled("after-resume")) << cli.stderr_text();
  EXPECT_NE(testing::thread_states(target->pid()).find('t'), std::string::npos) << "the target is held";
  kill(group ? -cli.pid() : cli.pid(), signal);
  auto stopped_at = std::chrono::steady_clock::now();
  bool let_go = false;
  while (std::chrono::steady_clock::now() - stopped_at < 3s) {
    if (testing::thread_states(target->pid()).find('t') == std::string::npos) {
      let_go = true;
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  double after_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - stopped_at).count();
  EXPECT_TRUE(let_go) << "the target stays held while snapdump is stopped";
  EXPECT_LT(after_ms, 1500) << "let go " << after_ms << " ms after snapdump stopped";
  EXPECT_EQ(testing::process_state(cli.pid()).state, 'T') << "snapdump is still stopped";
  EXPECT_EQ(eintr_of(target->heartbeat(), "sd-nanosleep"), 0u);
  kill(group ? -cli.pid() : cli.pid(), SIGCONT);
  int status = cli.wait_exit(30s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << cli.stderr_text();
  EXPECT_NE(cli.stderr_text().find("was stopped for more than 500 ms"), std::string::npos) << cli.stderr_text();
  EXPECT_FALSE(std::filesystem::exists(path)) << "a dump that is not one point in time must not look whole";
  testing::expect_no_child_and_no_sigchld(*target);
}

TEST(StoppedSnapdump, AHeldTargetIsLetGoWhenSnapdumpIsStopped) { expect_hold_given_up_when_stopped(SIGSTOP, false); }

TEST(StoppedSnapdump, AHeldTargetIsLetGoOnCtrlZ) { expect_hold_given_up_when_stopped(SIGTSTP, true); }

std::string status_line(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

// What shields the tracer from what reaches snapdump: a session of its own (terminal signals and
// `timeout`'s process-group signals miss it), catchable signals ignored, and, with the right to
// ask for it (root), the OOM killer told to spare it.
TEST(TracerProcess, HasItsOwnSessionIgnoresSignalsAndIsSparedByTheOomKiller) {
  auto target = TargetProcess::spawn({});
  StalledCli cli({"snapshot", std::to_string(target->pid()), "--clone"}, "after-resume");
  ASSERT_TRUE(cli.wait_stalled("after-resume")) << cli.stderr_text();
  pid_t tracer = cli.tracer();
  ASSERT_NE(tracer, 0);
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(tracer) + "/exe").filename(), "snapdump-tracer");
  EXPECT_EQ(getsid(tracer), tracer) << "a session of its own";
  EXPECT_NE(getpgid(tracer), getpgid(cli.pid()));
  uint64_t ignored = std::stoull(status_line(tracer, "SigIgn"), nullptr, 16);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2}) {
    EXPECT_TRUE(ignored & (1ull << (sig - 1))) << "signal " << sig << " is not ignored";
  }
  // Every catchable signal snapdump could be sent: the tracer goes on; the target stays fine.
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1}) kill(tracer, sig);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(kill(tracer, 0), 0) << "the tracer survives the signals";
  // -1000 takes CAP_SYS_RESOURCE (root without it, as in some containers, cannot lower the
  // value); without it the tracer's small size keeps it behind snapdump in the OOM killer's
  // order.
  uint64_t caps = std::stoull(status_line(getpid(), "CapEff"), nullptr, 16);
  auto read_number = [](pid_t pid, const char* file) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
    long value = 0;
    in >> value;
    return value;
  };
  if (caps & (1ull << 24)) {
    EXPECT_EQ(read_number(tracer, "oom_score_adj"), -1000);
  } else {
    EXPECT_LE(read_number(tracer, "oom_score"), read_number(cli.pid(), "oom_score"));
  }
  // Its socket is its only link to snapdump: no terminal, no stdin or stdout of snapdump's.
  EXPECT_EQ(std::filesystem::read_symlink("/proc/" + std::to_string(tracer) + "/fd/1"), "/dev/null");
  kill(cli.pid(), SIGKILL);
  cli.wait_exit(5s);
  EXPECT_TRUE(testing::wait_gone(tracer, 5s));
  EXPECT_TRUE(target->alive());
}

}  // namespace
}  // namespace snapdump
