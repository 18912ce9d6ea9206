// Runs snapdump_target (tests/targets) as a child process and talks to it over its line
// protocol: one READY line of JSON at start, then one JSON answer per command line.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace snapdump::testing {

class TargetProcess {
 public:
  // Starts the target with the given flags and waits up to 20 s for its READY line. Throws
  // std::runtime_error, carrying the target's stderr, if it fails or is too slow.
  static std::unique_ptr<TargetProcess> spawn(const std::vector<std::string>& args);
  // The same, started through `launcher` (a command line the target's path and `args` are
  // appended to, e.g. `unshare --pid --fork`): pid() is then the target's pid as this process
  // numbers it, found among the launcher's descendants; the launcher is what is waited for.
  static std::unique_ptr<TargetProcess> spawn_via(const std::vector<std::string>& launcher,
                                                  const std::vector<std::string>& args);
  // Any program that speaks the same protocol (a JSON READY line with "ready": true, one JSON
  // answer per command line, "exit" ends it): `argv` as is (argv[0] a path), waiting up to
  // `ready_timeout_ms` for READY. The real-program tests' python3, node and JVM programs.
  static std::unique_ptr<TargetProcess> spawn_program(const std::vector<std::string>& argv,
                                                      int ready_timeout_ms = 20000);

  TargetProcess(const TargetProcess&) = delete;
  TargetProcess& operator=(const TargetProcess&) = delete;
  // Asks the target to exit, waits up to 5 s, then SIGKILLs it; reaps it in every case
  // unless a tracer still holds it (then gives up after a bounded wait instead of hanging).
  ~TargetProcess();

  pid_t pid() const { return target_pid_ > 0 ? target_pid_ : pid_; }
  const nlohmann::json& report() const { return report_; }

  // Sends one command line and returns the parsed answer. Throws std::runtime_error on
  // timeout, on EOF, or on a line that is not JSON.
  nlohmann::json command(const std::string& line, int timeout_ms = 10000);
  nlohmann::json heartbeat() { return command("heartbeat"); }

  // False once the target has exited; the exit status is then kept for wait_exit.
  bool alive() const;
  // Waits for exit; returns the raw wait status (0 = exited with code 0), or -1 on timeout.
  int wait_exit(int timeout_ms);

  // Everything the target has written to stderr so far.
  std::string stderr_text() const;

 private:
  TargetProcess() = default;
  // Forks and execs `argv`, then waits for its READY line.
  static std::unique_ptr<TargetProcess> start(std::vector<std::string> argv, int ready_timeout_ms);
  // Reaps the target if it has exited, without consuming a ptrace stop meant for a tracer.
  bool poll_exit() const;
  std::string read_line(int timeout_ms);
  void write_line(const std::string& line);

  pid_t pid_ = -1;         // the child this process forked: the target, or its launcher
  pid_t target_pid_ = -1;  // the target, when started through a launcher
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;  // a memfd the target's stderr is redirected to
  std::string pending_;  // stdout bytes read past the last returned line
  std::string name_;     // the program's file name, for messages
  nlohmann::json report_;
  mutable bool exited_ = false;
  mutable int status_ = 0;
};

// The 8-byte word the target's heap holds at byte offset `offset` (before overwrite-heap).
std::uint64_t expected_heap_word(std::uint64_t offset);

// A dump path in the temporary directory, unique to this test process and `name`.
std::string temp_dump_path(const std::string& name);

// Absolute path of the snapdump_target executable.
std::string target_path();

// Report addresses are "0x..." strings; this also accepts plain numbers.
std::uint64_t parse_address(const nlohmann::json& value);

}  // namespace snapdump::testing
