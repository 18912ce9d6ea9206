// ptrace on one thread of a target: seize, interrupt, read and write registers, release.
// Only PTRACE_SEIZE + PTRACE_INTERRUPT are used, never PTRACE_ATTACH or SIGSTOP: the target
// can not observe a signal, and if snapdump dies the kernel detaches and the thread runs on.
// All calls must come from the thread that seized (the kernel ties a tracee to that thread).
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

namespace snapdump::os {

enum class StopResult {
  stopped,  // in a ptrace stop: registers can be read
  exited,   // the thread exited (or the whole process did) before it stopped
};

class TracedThread {
 public:
  explicit TracedThread(pid_t tid) : tid_(tid) {}
  TracedThread(TracedThread&& other) noexcept;
  TracedThread& operator=(TracedThread&& other) noexcept;
  TracedThread(const TracedThread&) = delete;
  TracedThread& operator=(const TracedThread&) = delete;
  // Releases the thread if still seized: a thread is never left stopped by accident.
  ~TracedThread();

  // A thread the kernel attached for us (a child born traced through PTRACE_O_TRACECLONE).
  static TracedThread adopt(pid_t tid) {
    TracedThread t(tid);
    t.seized_ = true;
    return t;
  }

  pid_t tid() const { return tid_; }
  bool seized() const { return seized_; }

  // PTRACE_SEIZE. Returns false if the thread no longer exists (ESRCH); throws Error for
  // a refusal (EPERM), naming the cause.
  bool seize(unsigned long options = 0);
  // PTRACE_INTERRUPT; pair with wait_stop(). Returns false if the thread is gone.
  bool interrupt();
  // Waits until the thread reports a stop, up to `timeout`. A signal that arrives instead is
  // remembered and delivered again at release(). Throws Error on timeout.
  StopResult wait_stop(std::chrono::milliseconds timeout);

  void get_regs(user_regs_struct& regs) const;
  void set_regs(const user_regs_struct& regs) const;
  void get_fpregs(user_fpregs_struct& fpregs) const;
  // The XSAVE area (PTRACE_GETREGSET NT_X86_XSTATE); empty if the kernel has none.
  std::vector<uint8_t> get_xstate() const;
  // The same into `out` without allocating; returns the bytes written, 0 if the kernel has no
  // XSAVE state for the thread. 16 KiB holds every XSAVE layout shipped so far.
  size_t get_xstate(std::span<uint8_t> out) const;
  std::array<uint64_t, 8> get_debug_registers() const;
  uint64_t get_sigmask() const;
  void set_sigmask(uint64_t mask) const;
  void set_options(unsigned long options) const;
  unsigned long get_event_message() const;

  // Resumes the thread and waits, blocking, for its next stop; used by syscall injection,
  // whose syscalls cannot block. `request` is PTRACE_CONT or PTRACE_SYSCALL. Returns the raw
  // wait status.
  int resume_and_wait(int request);

  // PTRACE_DETACH, re-delivering a signal that arrived during the stop. Never throws.
  void release() noexcept;
  // Forget the thread without detaching (it exited, or the tracer gave it away).
  void forget() noexcept { seized_ = false; }

  int pending_signal() const { return pending_signal_; }
  // A signal that stopped the thread while we drove it: delivered at release().
  void remember_signal(int sig) { pending_signal_ = sig; }
  bool group_stopped() const { return group_stopped_; }

 private:
  pid_t tid_;
  bool seized_ = false;
  int pending_signal_ = 0;
  bool group_stopped_ = false;
};

// Waits for `tid` (a tracee or a child) with __WALL, polling until `timeout`. Returns the
// status, or throws Error on timeout. Returns -1 with errno ECHILD if there is nothing to wait.
int wait_for(pid_t tid, std::chrono::milliseconds timeout, int* status);

}  // namespace snapdump::os
