// Checks, before anything is stopped, that the target can be traced, and says why not:
// the process is gone, another tracer holds it, Yama's ptrace_scope forbids it, or this user
// lacks the right (another uid without CAP_SYS_PTRACE).
#pragma once

#include <sys/types.h>

#include <memory_resource>

namespace snapdump::os {

// Throws Error(no_such_process | already_traced | permission_denied) with the cause and the fix.
// Heap-free when it does not throw: /proc text goes to `scratch`.
void check_traceable(pid_t pid, std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// True when Yama's ptrace_scope 1 lets this process trace only its own descendants (and
// processes that named it with PR_SET_PTRACER): no CAP_SYS_PTRACE. A helper process it starts
// would then not be allowed to trace what it may (see tracer_client.h). Heap-free.
bool only_ancestors_may_trace(std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

}  // namespace snapdump::os
