// The helper the VA clone is forked from is made before the pause, through one thread of the
// target (src/linux/va_clone.h ForkHelper): the thread it stops, the fallback to making it in the
// pause when no thread can be stopped without an EINTR, and a target that runs a new program
// between the two.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/run_cli.h"
#include "support/stalled_cli.h"
#include "support/target_process.h"
#include "support/target_unharmed.h"

namespace snapdump {
namespace {

using namespace std::chrono_literals;
using testing::TargetProcess;

// A program of the test's own, started with a pipe to its stdin and one from its stdout; it
// prints one line when ready. Killed and reaped at the end.
class Program {
 public:
  explicit Program(const std::vector<std::string>& argv) {
    int in[2], out[2];
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  ~Program() {
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(stdin_);
    close(stdout_);
  }
  // Its wait status once it exited by itself, -1 if it still runs after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout) {
    auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < end) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  pid_t pid() const { return pid_; }
  // The first line it prints, waiting at most `timeout`.
  std::string line(std::chrono::milliseconds timeout = 20s) {
    std::string text;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{stdout_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char c;
      if (read(stdout_, &c, 1) != 1) break;
      if (c == '\n') return text;
      text += c;
    }
    return text;
  }
  void write_line(const std::string& s) {
    std::string l = s + "\n";
    EXPECT_EQ(write(stdin_, l.data(), l.size()), static_cast<ssize_t>(l.size()));
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  bool reaped_ = false;
};

nlohmann::json snapshot_json(pid_t pid) {
  auto r = testing::run_cli({"snapshot", std::to_string(pid), "--clone", "--capture",
                             "VA_CLONE,THREADS,THREAD_CONTEXT,VA_SPACE,MEASURE_PERFORMANCE", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

// The usual target has threads blocked in calls the kernel restarts unseen: one of them carries
// the helper's calls before the pause, the target ends up with no child and no EINTR, and the
// snapshot says how long that one thread was stopped.
TEST(ForkHelper, IsMadeBeforeThePauseThroughOneThread) {
  auto target = TargetProcess::spawn({"--threads", "6"});
  target->command("reset");
  nlohmann::json s = snapshot_json(target->pid());
  uint64_t helper_ns = s["performance"]["helper_thread_stop_ns"].get<uint64_t>();
  EXPECT_GT(helper_ns, 0u) << s["performance"].dump();
  EXPECT_LT(helper_ns, 2'000'000'000u) << "one thread stopped for seconds";
  EXPECT_TRUE(s.contains("va_clone_pid")) << s.dump().substr(0, 400);
  auto hb = target->heartbeat();
  for (const char* name : {"sd-nanosleep", "sd-piperead", "sd-futex", "sd-accept", "sd-heartbeat", "main"}) {
    EXPECT_EQ(hb.contains("eintr") && hb["eintr"].contains(name) ? hb["eintr"][name].get<uint64_t>() : 0u, 0u)
        << name << ": " << hb.dump();
  }
  testing::expect_no_child_and_no_sigchld(*target);
}

// `dump` says how long that one thread was stopped, after the pause it prints as before.
TEST(ForkHelper, DumpSaysHowLongTheOneThreadWasStopped) {
  auto target = TargetProcess::spawn({"--threads", "6"});
  std::string path = testing::temp_dump_path("fork_helper_dump");
  std::remove(path.c_str());
  auto r = testing::run_cli({"dump", std::to_string(target->pid()), "--full", "--no-progress", "-o", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto at = r.out.find("the target was paused ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_GT(std::strtod(r.out.c_str() + at + 22, nullptr), 0.0) << r.out;
  auto helper = r.out.find("(and one of its threads ");
  ASSERT_NE(helper, std::string::npos) << r.out;
  EXPECT_GT(std::strtod(r.out.c_str() + helper + 24, nullptr), 0.0) << r.out;
  EXPECT_NE(r.out.find(" ms just before, to make the clone's fork helper)"), std::string::npos) << r.out;
  std::remove(path.c_str());
  // Without a clone there is no helper, and nothing more is said.
  r = testing::run_cli({"dump", std::to_string(target->pid()), "--no-progress", "-o", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("one of its threads"), std::string::npos) << r.out;
  std::remove(path.c_str());
}

// A target whose only thread waits in epoll_wait, which a stop would end with EINTR: no thread
// is stopped before the pause, the pause makes the helper itself, and the clone is made.
TEST(ForkHelper, IsMadeInThePauseWhenEveryThreadWaitsInACallAStopInterrupts) {
  Program py({"/usr/bin/python3", "-c",
              "import os, select, sys\n"
              "r, w = os.pipe(); e = select.epoll(); e.register(r, select.EPOLLIN)\n"
              "print('ready', flush=True)\n"
              "e.poll()\n"});
  ASSERT_EQ(py.line(), "ready");
  std::this_thread::sleep_for(100ms);  // into epoll_wait
  nlohmann::json s = snapshot_json(py.pid());
  EXPECT_EQ(s["performance"]["helper_thread_stop_ns"].get<uint64_t>(), 0u) << s["performance"].dump();
  EXPECT_TRUE(s.contains("va_clone_pid"));
  EXPECT_EQ(kill(py.pid(), 0), 0) << "the program runs on";
}

// Only the leader waits in a call a stop restarts unseen (a read); the other thread waits in
// epoll_wait: the leader carries the helper's calls before the pause.
TEST(ForkHelper, TheLeaderCarriesItWhenNoOtherThreadCan) {
  Program py({"/usr/bin/python3", "-c",
              "import os, select, sys, threading\n"
              "r, w = os.pipe(); e = select.epoll(); e.register(r, select.EPOLLIN)\n"
              "threading.Thread(target=e.poll, daemon=True).start()\n"
              "print('ready', flush=True)\n"
              "sys.stdin.readline()\n"});
  ASSERT_EQ(py.line(), "ready");
  std::this_thread::sleep_for(100ms);  // into read and epoll_wait
  nlohmann::json s = snapshot_json(py.pid());
  EXPECT_GT(s["performance"]["helper_thread_stop_ns"].get<uint64_t>(), 0u) << s["performance"].dump();
  EXPECT_TRUE(s.contains("va_clone_pid"));
  py.write_line("done");
  int status = py.wait_exit(5s);
  EXPECT_TRUE(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the leader's read went on and returned the line";
}

// The program runs a new one (execve) after the helper was made and before the pause: the
// helper holds the old memory, so no clone may be forked from it; the capture fails saying why,
// and nothing is left behind.
TEST(ForkHelper, ATargetThatRunsANewProgramMeanwhileIsNotClonedFromItsOldMemory) {
  Program sh({"/bin/sh", "-c", "echo ready; read line; exec /bin/sleep 60"});
  ASSERT_EQ(sh.line(), "ready");
  std::this_thread::sleep_for(100ms);  // into read
  testing::StalledCli cli({"snapshot", std::to_string(sh.pid()), "--clone"}, "helper-made:2000");
  ASSERT_TRUE(cli.wait_stalled("helper-made")) << cli.stderr_text();
  pid_t tracer = cli.tracer();
  sh.write_line("go");
  // The new program is running before the stall ends.
  auto end = std::chrono::steady_clock::now() + 1500ms;
  std::string comm;
  while (std::chrono::steady_clock::now() < end) {
    FILE* f = fopen(("/proc/" + std::to_string(sh.pid()) + "/comm").c_str(), "re");
    char buf[64] = {};
    if (f != nullptr) {
      if (fgets(buf, sizeof buf, f) != nullptr) comm = buf;
      fclose(f);
    }
    if (comm == "sleep\n") break;
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(comm, "sleep\n");
  int status = cli.wait_exit(30s);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << cli.stderr_text();
  EXPECT_NE(cli.stderr_text().find("started another program (execve)"), std::string::npos) << cli.stderr_text();
  EXPECT_TRUE(testing::wait_gone(tracer, 5s));
  // Nothing of snapdump's shares the program's old memory or waits as its child.
  EXPECT_EQ(kill(sh.pid(), 0), 0);
  std::string children;
  if (FILE* f = fopen(("/proc/" + std::to_string(sh.pid()) + "/task/" + std::to_string(sh.pid()) + "/children").c_str(), "re")) {
    char buf[256] = {};
    if (fgets(buf, sizeof buf, f) != nullptr) children = buf;
    fclose(f);
  }
  EXPECT_EQ(children, "");
}

}  // namespace
}  // namespace snapdump
