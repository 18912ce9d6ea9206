// The VA clone: a copy-on-write copy of the target's address space, made by injecting a
// clone() into one stopped thread of the target. The clone is born ptrace-stopped, never runs
// an instruction (see inject_syscall's single_step_child), is killed if snapdump dies
// (PTRACE_O_EXITKILL), and is reaped by the target itself, so the target is left with neither a
// SIGCHLD nor a zombie.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>

#include "linux/ptrace_thread.h"

namespace snapdump::os {

class VaClone {
 public:
  // `thread` is a stopped thread of `target`, `saved` its registers; `gadget` a syscall
  // instruction from find_syscall_gadget. Must run on the tracer thread.
  // Returned by value (no heap): the pause of a kCreateUseVmAllocations capture creates it.
  static VaClone create(pid_t target, TracedThread& thread, const user_regs_struct& saved,
                        uint64_t gadget);
  // Kills and reaps the clone (see destroy()).
  ~VaClone();
  VaClone(const VaClone&) = delete;
  VaClone& operator=(const VaClone&) = delete;
  // The moved-from object no longer owns the clone.
  VaClone(VaClone&& other) noexcept;
  VaClone& operator=(VaClone&&) = delete;

  pid_t pid() const { return clone_pid_; }
  pid_t target() const { return target_; }

  // Closes every fd in the clone (close_range injected into the clone, not the target), so
  // that the clone does not keep the target's sockets and pipes open while a dump is written.
  // Call after the handle table was read from the clone. Must run on the tracer thread.
  void close_files();

  // Kills the clone, then briefly stops one target thread to let the target reap it with an
  // injected wait4 (the clone is the target's child; exit signal 0 means no SIGCHLD, but only
  // its parent can reap it). Idempotent; never throws. Must run on the tracer thread.
  void destroy() noexcept;

 private:
  VaClone(pid_t target, pid_t clone_pid, uint64_t gadget, TracedThread clone_thread)
      : target_(target), clone_pid_(clone_pid), gadget_(gadget), clone_thread_(std::move(clone_thread)) {}
  void reap_in_target() noexcept;

  pid_t target_;
  pid_t clone_pid_;
  uint64_t gadget_;
  TracedThread clone_thread_;
  bool destroyed_ = false;
};

}  // namespace snapdump::os
