// Which blocking syscalls a ptrace stop turns into EINTR. signal(7) lists the interfaces that
// the kernel never restarts after a stop signal; a PTRACE_INTERRUPT stop takes the same path,
// so a thread blocked in one of them returns EINTR after any ptrace stop, from any tool.
#pragma once

namespace snapdump::os {

// True for syscalls (x86-64 numbers) that fail with EINTR when their thread is stopped and
// resumed: epoll_wait, epoll_pwait, epoll_pwait2, semop, semtimedop, rt_sigtimedwait.
// Socket calls with SO_RCVTIMEO/SO_SNDTIMEO behave the same but cannot be told apart from the
// syscall number alone; they are not included.
bool interrupted_by_stop(long syscall_number);

}  // namespace snapdump::os
