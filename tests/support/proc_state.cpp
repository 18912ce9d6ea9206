#include "support/proc_state.h"

#include <cctype>
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

std::set<pid_t> thread_ids(pid_t pid) {
  std::set<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
    out.insert(static_cast<pid_t>(std::stol(entry.path().filename().string())));
  return out;
}

std::set<std::string> children(pid_t pid) {
  std::set<std::string> out;
  for (pid_t tid : thread_ids(pid)) {
    std::ifstream file("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/children");
    for (long child; file >> child;) {
      std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
      std::string line;
      std::getline(stat, line);
      auto open = line.find('('), close = line.rfind(')');
      std::string comm = open != std::string::npos && close != std::string::npos && close > open
                             ? line.substr(open + 1, close - open - 1)
                             : "?";
      char state = close != std::string::npos && close + 2 < line.size() ? line[close + 2] : '?';
      out.insert(std::to_string(child) + " (" + comm + ") " + state);
    }
  }
  return out;
}

std::set<std::string> pending_signals(pid_t pid) {
  std::set<std::string> out;
  for (pid_t tid : thread_ids(pid)) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/status");
    for (std::string line; std::getline(status, line);) {
      bool thread_set = line.rfind("SigPnd:", 0) == 0, process_set = line.rfind("ShdPnd:", 0) == 0;
      if (!thread_set && !process_set) continue;
      std::string mask = line.substr(line.find_first_not_of(" \t", 7));
      if (mask.find_first_not_of('0') == std::string::npos) continue;
      out.insert(thread_set ? std::to_string(tid) + " SigPnd " + mask : "ShdPnd " + mask);
    }
  }
  return out;
}

std::map<std::uint64_t, std::string> vm_flags(pid_t pid) {
  std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
  std::map<std::uint64_t, std::string> out;
  std::string line, head;
  std::uint64_t start = 0;
  while (std::getline(smaps, line)) {
    // A region's first line: "start-end perms offset dev inode path"; field lines start with
    // a capital letter and a colon-terminated key.
    size_t dash = line.find('-');
    if (dash != std::string::npos && dash > 0 && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find(':') > line.find(' ')) {
      start = std::stoull(line.substr(0, dash), nullptr, 16);
      head = line.substr(0, line.find(' ', line.find(' ') + 1));  // "start-end perms"
    } else if (line.rfind("VmFlags:", 0) == 0) {
      out[start] = head + line.substr(8);
    }
  }
  return out;
}

}  // namespace snapdump::testing
