// What /proc says about a process's threads, for asserting that none is left stopped.
#pragma once

#include <sys/types.h>

#include <string>

namespace snapdump::testing {

// The state letter of every thread of `pid`, one character each ('S', 'R', 't' for a tracing
// stop, ...); threads that vanish while being read are left out.
std::string thread_states(pid_t pid);

}  // namespace snapdump::testing
