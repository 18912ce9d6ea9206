// `snapdump dump --full` interrupted while it writes: SIGINT, SIGTERM and SIGHUP, with the
// output as an O_TMPFILE file and under a temporary name (a file system without O_TMPFILE),
// and SIGKILL. Whatever the signal, no file and no partial file is left, no name is ever visible
// before the dump is whole (O_TMPFILE), the target runs on, and the exit status and message say
// what happened.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/proc_state.h"
#include "support/target_process.h"
#include "support/target_unharmed.h"
#include "support/temp_dir.h"

namespace snapdump {
namespace {

using testing::TargetProcess;
using Clock = std::chrono::steady_clock;

// snapdump started in the background with stderr on a pipe and stdout on /dev/null.
class Background {
 public:
  // `no_tmpfile`: as on a file system without O_TMPFILE; `ignore_hup`: started as nohup starts
  // a program, SIGHUP ignored.
  Background(const std::vector<std::string>& args, bool no_tmpfile, bool ignore_hup = false) {
    int err[2];
    if (pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(err[1], STDERR_FILENO);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, STDOUT_FILENO);
      if (no_tmpfile) setenv("SNAPDUMP_TEST_NO_O_TMPFILE", "1", 1);
      if (ignore_hup) signal(SIGHUP, SIG_IGN);
      std::vector<char*> argv;
      std::string cli = SNAPDUMP_CLI_PATH;
      argv.push_back(cli.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(err[1]);
    err_ = err[0];
  }
  ~Background() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (err_ >= 0) close(err_);
  }
  pid_t pid() const { return pid_; }
  // Waits for the exit; returns the raw wait status and fills `err` with its stderr.
  int wait(std::string& err) {
    char buf[1024];
    for (ssize_t n; (n = read(err_, buf, sizeof buf)) > 0;) err.append(buf, static_cast<size_t>(n));
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  bool reaped_ = false;
};

// The size of the largest file under `dir` that `pid` has open (the dump being written, named or
// not), or 0.
uint64_t bytes_being_written(pid_t pid, const std::string& dir) {
  std::string fds = "/proc/" + std::to_string(pid) + "/fd";
  uint64_t most = 0;
  DIR* d = opendir(fds.c_str());
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    std::string link = fds + "/" + e->d_name;
    char target[4096];
    ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    struct stat st {};
    if (std::string(target).rfind(dir + "/", 0) == 0 && stat(link.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      most = std::max<uint64_t>(most, static_cast<uint64_t>(st.st_size));
    }
  }
  closedir(d);
  return most;
}

// Waits until `pid` has written 8 MiB into a file under `dir`: the dump is under way.
bool wait_until_writing(pid_t pid, const std::string& dir) {
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (bytes_being_written(pid, dir) < (8u << 20)) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  return true;
}

struct Interruption {
  int signal;
  bool no_tmpfile;  // the temporary-name path, as on a file system without O_TMPFILE
  bool hold;        // --no-clone: the target stays stopped for the whole dump
};

class InterruptTest : public ::testing::TestWithParam<Interruption> {};

TEST_P(InterruptTest, MidDumpLeavesNoFileAndTheTargetRunsOn) {
  const Interruption& p = GetParam();
  auto target = TargetProcess::spawn({"--heap-mib", "768"});
  testing::TempDir tmp("interrupt-" + std::to_string(p.signal));
  const std::string& dir = tmp.path;
  std::vector<std::string> args = {"dump", std::to_string(target->pid()), "--full", "-o", dir + "/big.dmp"};
  if (p.hold) args.push_back("--no-clone");
  Background cli(args, p.no_tmpfile);
  // Mid-dump: once 8 MiB of the file are written (of about 770).
  ASSERT_TRUE(wait_until_writing(cli.pid(), dir)) << "the dump never got going";
  std::vector<std::string> visible = tmp.entries();
  kill(cli.pid(), p.signal);
  std::string err;
  int status = cli.wait(err);

  if (p.signal == SIGKILL) {
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  } else {
    // Died of the signal, after saying so, as a shell expects of an interrupted program.
    ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status) << ": " << err;
    EXPECT_EQ(WTERMSIG(status), p.signal) << err;
    EXPECT_NE(err.find(std::string("interrupted by SIG") + sigabbrev_np(p.signal) + ":"), std::string::npos) << err;
    EXPECT_NE(err.find("no dump was written to " + dir + "/big.dmp"), std::string::npos) << err;
  }
  if (!p.no_tmpfile) {
    // O_TMPFILE: nothing had a name while the dump was written, and nothing has one after any
    // signal, SIGKILL included.
    EXPECT_TRUE(visible.empty()) << ::testing::PrintToString(visible);
    EXPECT_TRUE(tmp.entries().empty()) << ::testing::PrintToString(tmp.entries());
  } else if (p.signal != SIGKILL) {
    EXPECT_EQ(visible.size(), 1u) << "the temporary name was expected while writing";
    EXPECT_TRUE(tmp.entries().empty()) << ::testing::PrintToString(tmp.entries());
  }
  // The target runs on: no stopped thread, its heartbeat answers, nothing left in it.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(target->alive());
  EXPECT_EQ(testing::thread_states(target->pid()).find('t'), std::string::npos) << testing::thread_states(target->pid());
  target->heartbeat();
  testing::expect_no_child_and_no_sigchld(*target);
}

INSTANTIATE_TEST_SUITE_P(
    EachSignal, InterruptTest,
    ::testing::Values(Interruption{SIGINT, false, false}, Interruption{SIGTERM, false, false},
                      Interruption{SIGHUP, false, false}, Interruption{SIGINT, true, false},
                      Interruption{SIGTERM, true, false}, Interruption{SIGHUP, true, false},
                      Interruption{SIGINT, false, true}, Interruption{SIGKILL, false, false}),
    [](const auto& info) {
      return std::string(sigabbrev_np(info.param.signal)) + (info.param.no_tmpfile ? "_TemporaryName" : "_OTmpfile") +
             (info.param.hold ? "_Hold" : "");
    });

// Started with SIGHUP ignored (nohup): a SIGHUP then changes nothing, the dump completes.
TEST(Interrupt, ASignalIgnoredAtStartStaysIgnored) {
  auto target = TargetProcess::spawn({"--heap-mib", "256"});
  testing::TempDir tmp("interrupt-nohup");
  Background cli({"dump", std::to_string(target->pid()), "--full", "-o", tmp / "x.dmp"}, false, true);
  ASSERT_TRUE(wait_until_writing(cli.pid(), tmp.path));
  kill(cli.pid(), SIGHUP);
  std::string err;
  int status = cli.wait(err);
  ASSERT_TRUE(WIFEXITED(status)) << err;
  EXPECT_EQ(WEXITSTATUS(status), 0) << err;
  EXPECT_EQ(tmp.entries(), std::vector<std::string>{"x.dmp"});
}

// Interrupted while the capture itself cannot take a cancel (stalled by the test hook with the
// clone made): the grace period ends the process, and the temporary name goes with it.
TEST(Interrupt, DuringTheCaptureTheGracePeriodEndsItAndRemovesTheTemporaryName) {
  auto target = TargetProcess::spawn({});
  testing::TempDir tmp("interrupt-capture");
  const std::string& dir = tmp.path;
  setenv("SNAPDUMP_TEST_STALL_AT", "after-clone", 1);
  Background cli({"dump", std::to_string(target->pid()), "--full", "-o", dir + "/x.dmp"}, true);
  unsetenv("SNAPDUMP_TEST_STALL_AT");
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (tmp.entries().empty() && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(tmp.entries().size(), 1u) << "the temporary name exists from before the capture";
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // into the stall
  auto sent = Clock::now();
  kill(cli.pid(), SIGTERM);
  std::string err;
  int status = cli.wait(err);
  double seconds = std::chrono::duration<double>(Clock::now() - sent).count();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << err;
  EXPECT_LT(seconds, 10.0);
  EXPECT_NE(err.find("interrupted by SIGTERM: no dump was written to " + dir + "/x.dmp"), std::string::npos) << err;
  EXPECT_TRUE(tmp.entries().empty()) << ::testing::PrintToString(tmp.entries());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(testing::thread_states(target->pid()).find('t'), std::string::npos);
  target->heartbeat();
}

}  // namespace
}  // namespace snapdump
