// `snapdump dump` options beyond the type: the Exception stream (--signal and friends), extra
// capture flags, the progress bar (on a terminal only), and the errors a user meets: another
// tracer, another uid, a full disk, options that contradict each other.
#include <pty.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/foreign_tracer.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing::run_command;
using testing::TargetProcess;

uint32_t tid_of(const TargetProcess& target, const std::string& kind) {
  for (const auto& t : target.report()["threads"]) {
    if (t["kind"] == kind) return t["tid"].get<uint32_t>();
  }
  throw std::runtime_error("no " + kind + " thread");
}

TEST(CliDump, SignalOptionsWriteTheExceptionStream) {
  auto target = TargetProcess::spawn({"--threads", "3"});
  std::string path = testing::temp_dump_path("cli_exception");
  uint32_t tid = tid_of(*target, "pipe_read");
  auto dump = testing::run_cli({"dump", std::to_string(target->pid()), "-o", path, "--signal", "abrt", "--exception-thread",
                   std::to_string(tid), "--signal-code", "-6", "--exception-address", "0x1000",
                   "--capture", "CreateMeasurePerformance,ThreadContextExtended"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  auto json = testing::run_cli({"inspect", path, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["exceptions"].size(), 1u) << json.out;
  EXPECT_EQ(j["exceptions"][0]["tid"].get<uint32_t>(), tid);
  EXPECT_EQ(j["exceptions"][0]["signal"], "SIGABRT");
  EXPECT_EQ(j["exceptions"][0]["flags"].get<uint32_t>(), static_cast<uint32_t>(-6));
  EXPECT_EQ(j["exceptions"][0]["address"].get<uint64_t>(), 0x1000u);
  auto text = testing::run_cli({"inspect", path});
  EXPECT_NE(text.out.find("Exception: SIGABRT"), std::string::npos) << text.out;

  // Without --exception-thread the main thread took it; a number works as well as a name.
  auto main_thread = testing::run_cli({"dump", std::to_string(target->pid()), "-o", path, "--signal", "11", "--force"});
  ASSERT_EQ(main_thread.exit_code, 0) << main_thread.err;
  j = nlohmann::json::parse(testing::run_cli({"inspect", path, "--json"}).out);
  EXPECT_EQ(j["exceptions"][0]["tid"].get<pid_t>(), target->pid());
  EXPECT_EQ(j["exceptions"][0]["signal"], "SIGSEGV");
  std::filesystem::remove(path);
}

TEST(CliDump, BadOptionsAreUsageErrorsAndWriteNothing) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  std::string pid = std::to_string(target->pid());
  std::string path = testing::temp_dump_path("cli_bad_options");
  auto expect_usage = [&](std::vector<std::string> args, const std::string& words) {
    args.insert(args.begin(), {"dump", pid, "-o", path});
    auto r = testing::run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(words), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(path));
  };
  expect_usage({"--signal", "SIGNOTHING"}, "not a signal name or number");
  expect_usage({"--signal", "99"}, "signal numbers run from 1 to");
  expect_usage({"--signal", "SEGV", "--exception-thread", "999999999"}, "not a thread of process " + pid);
  expect_usage({"--exception-thread", pid}, "need --signal");
  expect_usage({"--signal", "SEGV", "--exception-address", "zzz"}, "--exception-address zzz");
  expect_usage({"--capture", "NoSuchFlag"}, "NoSuchFlag");
  expect_usage({"--full", "--no-clone", "--capture", "VaClone"}, "contradict");
}

TEST(CliDump, AnotherTracerIsNamedWithItsPid) {
  auto target = TargetProcess::spawn({});
  testing::ForeignTracer tracer(target->pid());
  auto r = testing::run_cli({"dump", std::to_string(target->pid()), "-o", testing::temp_dump_path("cli_traced")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already traced"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(std::to_string(tracer.pid())), std::string::npos) << r.err;
}

TEST(CliDump, AnotherUsersProcessIsPermissionDenied) {
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does): it drops to uid 65534 here";
  auto target = TargetProcess::spawn({});
  auto r = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SNAPDUMP_CLI_PATH,
                        "dump", std::to_string(target->pid()), "-o", "/tmp/never-written.dmp"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("permission denied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("uid"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists("/tmp/never-written.dmp"));
}

TEST(CliDump, FullDiskFailsAndLeavesNothing) {
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does): it mounts a 1 MiB tmpfs here";
  std::string dir = testing::temp_dump_path("cli_full_disk_dir");
  std::filesystem::create_directories(dir);
  ASSERT_EQ(mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=1m"), 0) << std::strerror(errno);
  auto target = TargetProcess::spawn({"--heap-mib", "8"});
  auto r = testing::run_cli({"dump", std::to_string(target->pid()), "--full", "-o", dir + "/full.dmp"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no space"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(dir)) << "a failed dump left a file behind";
  umount(dir.c_str());
  std::filesystem::remove(dir);
}

// Runs the CLI on a pseudo-terminal and returns everything it wrote there.
std::string run_on_terminal(const std::vector<std::string>& args) {
  int master = -1;
  pid_t child = forkpty(&master, nullptr, nullptr, nullptr);
  if (child == 0) {
    setenv("SNAPDUMP_PROGRESS_AFTER_MS", "0", 1);
    std::vector<char*> argv;
    std::string cli_path = SNAPDUMP_CLI_PATH;
    argv.push_back(cli_path.data());
    std::vector<std::string> copy = args;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child has closed the terminal
    out.append(buf, static_cast<size_t>(n));
  }
  waitpid(child, nullptr, 0);
  close(master);
  return out;
}

TEST(CliDump, ProgressBarOnATerminalOnly) {
  auto target = TargetProcess::spawn({"--heap-mib", "64"});
  std::string path = testing::temp_dump_path("cli_progress");
  std::string terminal = run_on_terminal({"dump", std::to_string(target->pid()), "--full", "-o", path});
  EXPECT_NE(terminal.find("%"), std::string::npos) << terminal;
  EXPECT_NE(terminal.find(" MiB "), std::string::npos) << terminal;
  EXPECT_NE(terminal.find("\r\033[K"), std::string::npos) << "the bar is erased before the result";
  EXPECT_NE(terminal.find(path), std::string::npos) << terminal;

  std::string quiet = run_on_terminal({"dump", std::to_string(target->pid()), "--full", "--force", "--no-progress", "-o", path});
  EXPECT_EQ(quiet.find("%"), std::string::npos) << quiet;

  // Not a terminal: the result line only, nothing on stderr.
  setenv("SNAPDUMP_PROGRESS_AFTER_MS", "0", 1);
  auto piped = testing::run_cli({"dump", std::to_string(target->pid()), "--full", "--force", "-o", path});
  unsetenv("SNAPDUMP_PROGRESS_AFTER_MS");
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err, "");
  EXPECT_EQ(std::count(piped.out.begin(), piped.out.end(), '\n'), 1) << piped.out;
  EXPECT_TRUE(testing::read_dump(path).problems().empty());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
