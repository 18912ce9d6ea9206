#include <signal.h>
#include "target_commands.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <ctime>
#include <dirent.h>
#include <fstream>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "target_heap.h"
#include "target_sweep.h"
#include "thread_registry.h"

namespace sdtarget {
namespace {

std::string stat_state(const std::string& stat_path, pid_t* parent = nullptr) {
  std::ifstream file(stat_path);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  // The comm field may contain ')' and spaces, so fields are counted from the last ')'.
  const auto close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::istringstream fields(text.substr(close + 1));
  std::string state;
  long parent_pid = 0;
  fields >> state >> parent_pid;
  if (parent != nullptr) *parent = static_cast<pid_t>(parent_pid);
  return state;
}

std::string read_comm(pid_t pid) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(file, name);
  return name;
}

std::vector<std::string> numeric_entries(const std::string& directory) {
  std::vector<std::string> names;
  if (DIR* dir = opendir(directory.c_str())) {
    while (dirent* entry = readdir(dir))
      if (std::isdigit(static_cast<unsigned char>(entry->d_name[0]))) names.push_back(entry->d_name);
    closedir(dir);
  }
  return names;
}

// /proc/self/task/*/children exists only with CONFIG_PROC_CHILDREN; without it, scanning
// every process for our pid as parent gives the same answer, just slower.
std::set<pid_t> child_pids() {
  std::set<pid_t> children;
  bool have_children_files = false;
  for (const std::string& tid : numeric_entries("/proc/self/task")) {
    std::ifstream file("/proc/self/task/" + tid + "/children");
    if (!file) continue;
    have_children_files = true;
    for (long pid; file >> pid;) children.insert(static_cast<pid_t>(pid));
  }
  if (have_children_files) return children;
  const pid_t self = getpid();
  for (const std::string& pid : numeric_entries("/proc")) {
    pid_t parent = 0;
    stat_state("/proc/" + pid + "/stat", &parent);
    if (parent == self) children.insert(static_cast<pid_t>(std::stol(pid)));
  }
  return children;
}

// SIGCHLD is blocked in every thread (target_main.cpp), so one sent to the target waits here.
void drain_sigchld() {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  const timespec zero{};
  while (sigtimedwait(&chld, nullptr, &zero) > 0) {
  }
}

nlohmann::json pending_signals() {
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  nlohmann::json list = nlohmann::json::array();
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&pending, sig) == 1) list.push_back(sig);
  }
  return {{"pending", list}};
}

// A bare fork of the whole target, timed from the parent: the baseline the benches compare
// a capture's pause against. The child leaves at once and is reaped before answering.
nlohmann::json timed_fork() {
  timespec before{};
  timespec after{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  const pid_t child = fork();
  if (child == 0) _exit(0);
  clock_gettime(CLOCK_MONOTONIC, &after);
  if (child < 0) return {{"error", "fork failed"}, {"errno", errno}};
  while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
  }
  drain_sigchld();  // ours, not a capture's
  const std::int64_t elapsed = (after.tv_sec - before.tv_sec) * 1'000'000'000LL +
                               (after.tv_nsec - before.tv_nsec);
  return {{"ok", true}, {"fork_ns", elapsed}, {"child", child}};
}

}  // namespace

nlohmann::json children_json() {
  nlohmann::json children = nlohmann::json::array();
  std::size_t zombies = 0;
  for (pid_t pid : child_pids()) {
    const std::string state = stat_state("/proc/" + std::to_string(pid) + "/stat");
    if (state == "Z") ++zombies;
    children.push_back({{"pid", pid}, {"state", state}, {"comm", read_comm(pid)}});
  }
  return {{"children", children}, {"zombies", zombies}};
}

nlohmann::json run_command(const std::string& command) {
  if (command == "heartbeat") return counters_json();
  if (command == "reset") {
    reset_counters();
    drain_sigchld();
    return {{"ok", true}};
  }
  if (command == "overwrite-heap" || command == "restore-heap") {
    fill_heap(command == "overwrite-heap");
    return {{"ok", true}};
  }
  if (command.rfind("sweep ", 0) == 0) return run_sweep(command.substr(6));
  if (command == "children") return children_json();
  if (command == "pending-signals") return pending_signals();
  if (command == "fork") return timed_fork();
  if (command == "ping") return {{"ok", true}, {"pid", getpid()}};
  return {{"error", "unknown command"}, {"command", command}};
}

}  // namespace sdtarget
