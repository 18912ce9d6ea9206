// Would a syscall snapdump injects into a thread pass that thread's seccomp filters? A filter
// runs on every syscall the thread makes, injected ones too, and may kill the whole process
// (SECCOMP_RET_KILL_PROCESS), send it SIGSYS (RET_TRAP), or wake a supervisor that believes the
// process asked (RET_USER_NOTIF). So before the clone() and wait4() that make and reap the VA
// clone, snapdump reads the thread's filters (PTRACE_SECCOMP_GET_FILTER) and runs them on the
// exact call, as the kernel would; it injects only what they allow.
//
// Hand-rolled: the filters are classic BPF, which no packaged library evaluates outside the
// kernel (libseccomp builds filters; libpcap's interpreter knows packets, not seccomp_data), and
// the subset seccomp accepts is small.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <span>

#include "linux/syscall_injection.h"

namespace snapdump::os {

// The action (SECCOMP_RET_ACTION_FULL | data) `program` returns for `data`, evaluated the way
// the kernel does. A program the kernel would not have loaded (an unknown instruction, a load
// outside seccomp_data, a jump past the end, no return) gives SECCOMP_RET_KILL_PROCESS: when in
// doubt, the call counts as harmful.
uint32_t run_seccomp_program(std::span<const sock_filter> program, const seccomp_data& data) noexcept;

// The seccomp_data the kernel builds for `number(args)` made by the `syscall` instruction at
// `gadget` (x86-64).
seccomp_data injected_call(long number, const SyscallArgs& args, uint64_t gadget) noexcept;

enum class SeccompVerdict {
  allowed,   // no filter, or every filter allows (or only logs) it
  refused,   // it would fail without harm (RET_ERRNO, or RET_TRACE with no seccomp tracer)
  harmful,   // it would kill the thread or process, raise SIGSYS, or notify a supervisor
  unknown,   // filtered, but the filters cannot be read (CAP_SYS_ADMIN, kernel config)
};
const char* to_string(SeccompVerdict verdict) noexcept;

// What an action does to the call, as a phrase that takes the call as its object ("kill the
// process for", "raise SIGSYS in the thread that makes", "fail", ...), for error messages.
const char* seccomp_effect(uint32_t action) noexcept;

struct SeccompCheck {
  SeccompVerdict verdict = SeccompVerdict::allowed;
  uint32_t action = SECCOMP_RET_ALLOW;  // the combined action (refused / harmful)
  int error = 0;                        // why the filters could not be read (unknown)
};

// The thread's seccomp mode from /proc/PID/task/TID/status (SECCOMP_MODE_DISABLED, _STRICT,
// _FILTER), or a negative errno if unreadable. Heap-free.
int seccomp_mode(pid_t pid, pid_t tid) noexcept;

// The combined verdict of thread `tid`'s filters on `call` (the most restrictive action of all,
// as the kernel combines them). `tid` must be ptrace-stopped by the caller. Takes nothing from
// the heap (stack buffers): callable in the pause.
SeccompCheck check_seccomp(pid_t pid, pid_t tid, const seccomp_data& call) noexcept;

}  // namespace snapdump::os
