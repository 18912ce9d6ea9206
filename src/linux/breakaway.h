// PSS_CREATE_BREAKAWAY on Linux. Windows jobs limit and account a process tree; the Linux
// analog is the cgroup. The clone's copy-on-write pages are charged to the memory cgroup it
// lives in, which at birth is the target's: a dump could push the target over its own memory
// limit. Breaking away moves the clone into snapdump's cgroup instead.
#pragma once

#include <sys/types.h>

#include <memory_resource>
#include <string>
#include <string_view>

namespace snapdump::os {

// Moves `clone_pid` out of `target_pid`'s cgroup into the caller's (cgroup v2). Nothing to do if
// they share one. Throws Error(permission_denied/not_supported) on failure unless `optional`,
// in which case the clone stays where it is (PSS_CREATE_BREAKAWAY_OPTIONAL).
// /proc and path text goes to `scratch`: no heap use unless it throws.
void break_away(pid_t clone_pid, pid_t target_pid, bool optional,
                std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// The cgroup v2 path of a process ("/user.slice/..."), "" if none.
std::string cgroup_of(pid_t pid);
// The same as a view into `text`, which receives /proc/PID/cgroup (pid 0: this process).
std::string_view cgroup_in(pid_t pid, std::pmr::string& text);

}  // namespace snapdump::os
