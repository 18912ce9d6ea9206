#include "support/exit_race.h"

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <random>
#include <thread>

#include "support/stalled_cli.h"
#include "support/target_process.h"

namespace snapdump::testing {

int run_exit_race(const ExitRace& race, const std::function<void(const ExitRaceRound&)>& check) {
  std::mt19937 random(race.seed);
  std::uniform_int_distribution<int> delay_ms(0, race.max_delay_ms);
  int finished = 0;
  for (int i = 0; i < race.rounds; ++i) {
    auto target = TargetProcess::spawn(race.target_args);
    ExitRaceRound round;
    round.index = i;
    round.pid = target->pid();
    StalledCli run(race.command(round.pid), "");
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(random)));
    kill(round.pid, SIGKILL);
    int status = run.wait_exit(std::chrono::seconds(60));
    round.err = run.stderr_text();
    round.exit_code = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    finished += round.exit_code == 0;
    check(round);
  }
  return finished;
}

bool says_target_exited(const std::string& err, pid_t pid) {
  std::string process = "process " + std::to_string(pid);
  return err.find(process + " exited during capture") != std::string::npos ||
         err.find(process + " exited before it could be captured") != std::string::npos;
}

}  // namespace snapdump::testing
