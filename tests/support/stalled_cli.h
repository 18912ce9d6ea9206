// The snapdump command run as a child of the test, stopped at a chosen step of its capture by
// the SNAPDUMP_TEST_STALL_AT hook, so a test can kill it, stop it, or look at its tracer there.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace snapdump::testing {

class StalledCli {
 public:
  // Starts `snapdump ARGS...` in a process group of its own with SNAPDUMP_TEST_STALL_AT=`stall`
  // (empty: none), stdout to /dev/null. Throws std::runtime_error if it cannot start.
  StalledCli(const std::vector<std::string>& args, const std::string& stall);
  // Kills the command's process group if it still runs, and reaps it.
  ~StalledCli();
  StalledCli(const StalledCli&) = delete;
  StalledCli& operator=(const StalledCli&) = delete;

  // Waits until stderr announces "stalled at <phase>"; false after `timeout`.
  bool wait_stalled(const std::string& phase, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Everything it wrote to stderr so far (reads what is pending, without blocking).
  const std::string& stderr_text();
  // The clone named by a stall announcement ("(clone N)"), 0 if none.
  pid_t announced_clone();

  pid_t pid() const { return pid_; }
  // Its tracer process (its child), 0 if none was started yet.
  pid_t tracer() const;
  // Waits for it to exit; the raw wait status, or -1 after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  void drain(int timeout_ms);
  pid_t pid_ = -1;
  int err_ = -1;
  std::string seen_;
  bool reaped_ = false;
};

// Waits until process `pid` is gone or a zombie (a tracer, once its owner died), at most
// `timeout`; returns whether it is.
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout);

}  // namespace snapdump::testing
