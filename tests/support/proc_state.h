// What /proc says about a process and its threads, for asserting that none is left stopped
// and that no clone of snapdump's is left running or in the wrong parent's care.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>

namespace snapdump::testing {

// The state letter of every thread of `pid`, one character each ('S', 'R', 't' for a tracing
// stop, ...); threads that vanish while being read are left out.
std::string thread_states(pid_t pid);

struct ProcessState {
  bool exists = false;  // false once the pid is reaped
  char state = 0;       // 'R', 'S', 't', 'Z', ...
  pid_t parent = 0;
};
ProcessState process_state(pid_t pid);

// True if `pid` runs no more: reaped, or a zombie whose parent is not in `not_parents` (the
// processes that must not be left to reap it).
bool dead_and_not_left_to(pid_t pid, std::initializer_list<pid_t> not_parents, std::string* why);

// The thread ids in /proc/PID/task.
std::set<pid_t> thread_ids(pid_t pid);

// The children of `pid` (every thread's /proc/PID/task/TID/children), zombies included, each
// as "PID (comm) STATE"; empty for a process with none.
std::set<std::string> children(pid_t pid);

// The signals pending for `pid`, as /proc/PID/task/TID/status says (its SigPnd, and ShdPnd for
// the whole process), each as "TID SigPnd MASK" or "ShdPnd MASK"; empty when none is.
std::set<std::string> pending_signals(pid_t pid);

// Start address -> "start-end perms VmFlags..." for every region of `pid` (/proc/PID/smaps).
std::map<std::uint64_t, std::string> vm_flags(pid_t pid);

}  // namespace snapdump::testing
