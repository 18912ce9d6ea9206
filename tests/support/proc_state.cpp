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

}  // namespace snapdump::testing
