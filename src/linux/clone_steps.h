// The steps the VA clone and its helpers are made, parked, reaped and killed with: each an
// injected call or a ptrace operation on a stopped thread, shared by ForkHelper (the helper the
// clone is forked from) and VaClone (the fork and the clone's end). Internal to src/linux.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <cstdint>

#include "linux/ptrace_thread.h"

namespace snapdump::os::clone_steps {

inline constexpr std::chrono::milliseconds kStopTimeout{5000};
inline constexpr uint64_t kTrapFlag = 0x100;
// A helper shares the target's memory, files and fs: nothing is copied for it, so the call that
// makes it is as quick as a thread's creation.
uint64_t helper_flags();

// clone() with `flags` injected into `thread` (stopped; `regs` its registers), the child born
// traced with `kept_options`. Returns the child's pid; throws the Error of a failed clone().
pid_t inject_clone(pid_t target, TracedThread& thread, const user_regs_struct& regs, uint64_t gadget,
                   uint64_t flags, unsigned long kept_options);
// Throws, having injected nothing, unless the carrier's seccomp filters allow every call that
// makes and reaps the helpers and the clone.
void check_clone_calls(pid_t target, const TracedThread& thread, uint64_t gadget);
// Takes over a child born traced and stopped, and sets PTRACE_O_EXITKILL on it.
TracedThread adopt_newborn(pid_t target, pid_t child, const char* what);
// Parks the clone on exit_group(0): should it ever be resumed, it leaves at once.
void park(TracedThread& t, uint64_t gadget);
// Reaps zombie `local` (its pid in the reaper's namespace) with an injected wait4 in `reaper`.
bool reap_through(TracedThread& reaper, pid_t reaper_pid, pid_t local, uint64_t gadget) noexcept;
// Kills a helper and waits for it as its tracer; returns its pid in its parent's namespace.
pid_t kill_helper(TracedThread& helper) noexcept;
// Whether a stop of thread `tid` goes unseen by it: it is not blocked in a call that a stop ends
// with EINTR (epoll_wait, semop, sigtimedwait); its call, if any, is restarted. False if its
// state cannot be read. The threads stopped alone (to make the fork helper, to reap a helper)
// are chosen by it.
bool stop_goes_unseen(pid_t target, pid_t tid) noexcept;
// Reaps the target's child `local_pid` through one of its threads, stopped for that call alone.
void reap_in(pid_t target, pid_t local_pid, uint64_t gadget) noexcept;
// The error for a helper the target did not reap (most likely: the target died meanwhile).
[[noreturn]] void throw_helper_not_reaped(pid_t target, const TracedThread& carrier);

}  // namespace snapdump::os::clone_steps
