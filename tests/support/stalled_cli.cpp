#include "support/stalled_cli.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/proc_state.h"

namespace snapdump::testing {

StalledCli::StalledCli(const std::vector<std::string>& args, const std::string& stall) {
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork");
  if (pid_ == 0) {
    setpgid(0, 0);
    dup2(err[1], 2);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    if (stall.empty()) {
      unsetenv("SNAPDUMP_TEST_STALL_AT");
    } else {
      setenv("SNAPDUMP_TEST_STALL_AT", stall.c_str(), 1);
    }
    std::vector<std::string> words = {"snapdump"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);
    execv(SNAPDUMP_CLI_PATH, argv.data());
    _exit(127);
  }
  setpgid(pid_, pid_);  // also from here: no race with the kill of the group
  close(err[1]);
  err_ = err[0];
}

StalledCli::~StalledCli() {
  if (!reaped_) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  close(err_);
}

void StalledCli::drain(int timeout_ms) {
  pollfd p{err_, POLLIN, 0};
  while (poll(&p, 1, timeout_ms) > 0) {
    char buf[512];
    ssize_t n = read(err_, buf, sizeof buf);
    if (n <= 0) break;
    seen_.append(buf, static_cast<size_t>(n));
    timeout_ms = 0;
  }
}

bool StalledCli::wait_stalled(const std::string& phase, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string wanted = "stalled at " + phase;
  while (seen_.find(wanted) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    drain(50);
  }
  return true;
}

const std::string& StalledCli::stderr_text() {
  drain(0);
  return seen_;
}

pid_t StalledCli::announced_clone() {
  auto at = stderr_text().find("(clone ");
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::stol(seen_.substr(at + 7)));
}

pid_t StalledCli::tracer() const {
  std::ifstream children("/proc/" + std::to_string(pid_) + "/task/" + std::to_string(pid_) + "/children");
  long child = 0;
  return children >> child ? static_cast<pid_t>(child) : 0;
}

int StalledCli::wait_exit(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    drain(0);
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      drain(0);
      return status;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ProcessState s = process_state(pid);
    if (!s.exists || s.state == 'Z' || s.state == 'X') return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace snapdump::testing
