// A target that exits at any instant while a command works on it: the command run against
// fresh targets, each SIGKILLed after a random delay, so that over the rounds the kill lands
// before, during and after the capture. The tests of `dump` and `stacks` check that each round
// ends with one clear message or a whole result, never anything in between.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace snapdump::testing {

struct ExitRaceRound {
  int index = 0;
  pid_t pid = 0;       // the target, dead by now
  int exit_code = -1;  // the command's, or -1 if it did not exit by itself within a minute
  std::string err;     // all it wrote to stderr
};

struct ExitRace {
  std::vector<std::string> target_args;                           // TargetProcess::spawn's
  std::function<std::vector<std::string>(pid_t)> command;         // snapdump's arguments for a target
  int rounds = 10;
  int max_delay_ms = 100;  // the kill comes 0 to this many ms after the command starts
  uint32_t seed = 1;       // the delays are the same from run to run
};

// Runs the rounds, hands each to `check` (which makes the test's assertions) and returns how
// many rounds ended with exit code 0.
int run_exit_race(const ExitRace& race, const std::function<void(const ExitRaceRound&)>& check);

// Whether `err` is the one message a target's exit gives: "process N exited during capture",
// or, dead before snapdump looked, "process N exited before it could be captured".
bool says_target_exited(const std::string& err, pid_t pid);

}  // namespace snapdump::testing
