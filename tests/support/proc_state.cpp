#include "support/proc_state.h"

#include <filesystem>
#include <fstream>
#include <system_error>

namespace snapdump::testing {

std::string thread_states(pid_t pid) {
  std::string states;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // The command name may hold spaces and parentheses: the state follows the last ')'.
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size()) states += line[close + 2];
  }
  return states;
}

ProcessState process_state(pid_t pid) {
  ProcessState out;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return out;
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return out;
  out.exists = true;
  out.state = line[close + 2];
  out.parent = static_cast<pid_t>(std::stol(line.substr(close + 4)));
  return out;
}

bool dead_and_not_left_to(pid_t pid, std::initializer_list<pid_t> not_parents, std::string* why) {
  ProcessState s = process_state(pid);
  if (!s.exists) return true;
  if (s.state != 'Z' && s.state != 'X') {
    *why = "process " + std::to_string(pid) + " still runs (state " + s.state + ")";
    return false;
  }
  for (pid_t p : not_parents) {
    if (s.parent == p) {
      *why = "process " + std::to_string(pid) + " is a zombie left to " + std::to_string(p) + " to reap";
      return false;
    }
  }
  return true;
}

}  // namespace snapdump::testing
