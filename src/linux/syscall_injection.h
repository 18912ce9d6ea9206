// Running a syscall inside a ptrace-stopped thread of another process, without writing a byte
// of its memory: the thread's registers are pointed at an existing `syscall` instruction (a
// "gadget") in its own code, the syscall runs under PTRACE_SYSCALL, and the registers are put
// back exactly, so an interrupted blocking call restarts as if nothing happened.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <cstdint>
#include <memory_resource>
#include <span>
#include <string_view>
#include <vector>

#include "linux/ptrace_thread.h"
#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// Finds a `syscall` instruction whose following instruction has no effect outside the thread's
// own registers (ret, cmp, test, reg-to-reg mov, ...). That property is what makes the VA clone
// safe: a clone that ever ran would execute only that one instruction before it traps.
// Looks in [vdso] first, then libc, then any executable mapping. Throws Error(not_supported).
// Reads code through a buffer from `scratch`.
uint64_t find_syscall_gadget(pid_t pid, std::span<const Region> regions,
                             std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// True if the bytes at `next` (the instruction after a syscall) are on the allow-list.
bool is_harmless_instruction(const uint8_t* next, size_t available);

struct InjectedSyscall {
  long result = 0;       // rax after the call (a negative errno on failure)
  pid_t new_child = 0;   // for clone: the child's pid, reported by PTRACE_EVENT_CLONE
};

// At most six arguments, in the order of the syscall ABI (rdi, rsi, rdx, r10, r8, r9). A fixed
// array rather than a vector: an injection inside the pause must not allocate.
using SyscallArgs = std::array<uint64_t, 6>;

// Runs syscall `number` with `args` in `thread`, which must be stopped; `saved` are its registers
// at the stop, restored afterwards whatever happens. With `trace_clone` the thread is traced for
// PTRACE_EVENT_CLONE so a cloned child is born traced and stopped. `kept_options` are ptrace
// options the thread holds before, during and after the call (PTRACE_O_EXITKILL for a thread
// that must not outlive snapdump); every other option is cleared afterwards.
InjectedSyscall inject_syscall(TracedThread& thread, const user_regs_struct& saved, uint64_t gadget,
                               long number, const SyscallArgs& args,
                               bool trace_clone = false, bool single_step_child = false,
                               unsigned long kept_options = 0);

// Runs syscall `number` in `helper`, a stopped process of snapdump's own making (a clone helper or
// the VA clone), whose registers need not be kept: one PTRACE_SINGLESTEP over the gadget, so one
// stop per call instead of the two of PTRACE_SYSCALL. For the many madvise() calls a pause may
// make. Returns rax (a negative errno on failure). Never use it on a thread of the target.
long run_in_helper(TracedThread& helper, user_regs_struct& scratch_regs, uint64_t gadget, long number,
                   const SyscallArgs& args);

}  // namespace snapdump::os
