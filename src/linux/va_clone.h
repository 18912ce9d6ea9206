// The VA clone: a copy-on-write copy of the target's address space, made by injecting a
// clone() into one stopped thread of the target. The clone is born ptrace-stopped, never runs
// an instruction (see inject_syscall's single_step_child) and is killed if snapdump dies
// (PTRACE_O_EXITKILL).
//
// Whose child the clone is decides who reaps it, and the target must never be left with a
// zombie or a SIGCHLD it did not ask for. So, where the kernel allows (clone_can_be_orphaned),
// the clone is made an orphan during the pause, the way a daemon double-forks: the target
// clones a short-lived helper that shares its memory (CLONE_VM, exit signal 0), the helper
// clones the VA clone, and the helper is killed and reaped by the target while it is still
// stopped. The orphaned clone belongs to the nearest child subreaper or to init, which reap it
// whenever it dies, even after snapdump was SIGKILLed. Otherwise the clone stays the target's
// child, and destroy() lets the target reap it with an injected wait4.
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
  // `orphan`: make the clone an orphan (pass clone_can_be_orphaned(target), decided before the
  // pause since it reads /proc).
  static VaClone create(pid_t target, TracedThread& thread, const user_regs_struct& saved,
                        uint64_t gadget, bool orphan);
  // Kills and reaps the clone (see destroy()).
  ~VaClone();
  VaClone(const VaClone&) = delete;
  VaClone& operator=(const VaClone&) = delete;
  // The moved-from object no longer owns the clone.
  VaClone(VaClone&& other) noexcept;
  VaClone& operator=(VaClone&&) = delete;

  pid_t pid() const { return clone_pid_; }
  pid_t target() const { return target_; }
  // True if the clone is not the target's child (so freeing it never touches the target).
  bool orphaned() const { return orphaned_; }

  // Closes every fd in the clone (close_range injected into the clone, not the target), so
  // that the clone does not keep the target's sockets and pipes open while a dump is written.
  // Call after the handle table was read from the clone. Must run on the tracer thread.
  void close_files();

  // Kills the clone. An orphaned clone goes to its reaper; one that is the target's child
  // makes destroy() briefly stop one target thread to let the target reap it with an injected
  // wait4 (exit signal 0 means no SIGCHLD, but only its parent can reap it). Idempotent; never
  // throws. Must run on the tracer thread.
  void destroy() noexcept;

 private:
  VaClone(pid_t target, pid_t clone_pid, uint64_t gadget, TracedThread clone_thread)
      : target_(target), clone_pid_(clone_pid), gadget_(gadget), clone_thread_(std::move(clone_thread)) {}
  static VaClone create_orphan(pid_t target, TracedThread& thread, const user_regs_struct& saved,
                               uint64_t gadget);
  void reap_in_target(pid_t local_pid) noexcept;

  pid_t target_;
  pid_t clone_pid_;
  uint64_t gadget_;
  TracedThread clone_thread_;
  bool orphaned_ = false;
  bool destroyed_ = false;
};

// True if the VA clone of `target` can be made an orphan that neither the target nor its parent
// reaps: Linux 5.16 or later (before it, a core dump of the memory-sharing helper would kill
// every process sharing its memory, the target included, should snapdump die in the moment
// the helper lives); a target that is not the init of its PID namespace (init adopts every
// orphan of its namespace, the clone included); and, in a container, a target whose parent is
// not that init (the orphan would land among the parent's children, and a container's init may
// never reap). Reads /proc: call outside the pause.
bool clone_can_be_orphaned(pid_t target);

}  // namespace snapdump::os
