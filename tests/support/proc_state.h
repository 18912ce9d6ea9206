// What /proc says about a process and its threads, for asserting that none is left stopped
// and that no clone of snapdump's is left running or in the wrong parent's care.
#pragma once

#include <sys/types.h>

#include <initializer_list>
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

}  // namespace snapdump::testing
