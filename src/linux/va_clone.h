// The VA clone: a copy-on-write copy of the target's address space, made by injecting clone()
// calls, starting from one stopped thread of the target. The clone is born ptrace-stopped, never
// runs an instruction (see inject_syscall's single_step_child) and is killed if its tracer dies
// (PTRACE_O_EXITKILL).
//
// Whose child each process is decides who reaps it, and the target must never be left with a
// zombie or a SIGCHLD it did not ask for. The target itself makes only one short-lived child,
// and only for fast steps (docs/capture.md has the table of every step):
//   1. the carrier thread clones helper H1 (CLONE_VM: nothing is copied, so the call takes
//      microseconds; exit signal 0). The carrier gets its own registers back at once.
//   2. orphan mode (clone_can_be_orphaned): H1 clones H2 (CLONE_VM again; H2 is born with
//      PTRACE_O_EXITKILL, inherited from H1). H1 is killed and reaped by the carrier. H2 is now
//      an orphan of the nearest child subreaper or init; the slow step, the fork that makes the
//      VA clone, runs in H2, which is then killed and left to that reaper, and so is the clone.
//   3. otherwise (the target would be the reaper) H1 makes the clone and stays alive as its
//      parent: destroy() reaps the clone in H1 (no stop of the target), kills H1 and reaps H1 in
//      the target with one brief stop of one thread.
// Steps 1 and 2 make a ForkHelper, normally just before the pause through one stopped thread
// while the others run; the fork itself (VaClone::create) is made in the pause.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <utility>

#include "linux/fork_helper.h"
#include "linux/ptrace_thread.h"

namespace snapdump::os {

class VaClone {
 public:
  // Forks the clone from `helper` (ForkHelper::make or make_before_pause) while every thread
  // of `target` is stopped; `carrier` is one of them, through which a helper that is the
  // target's child is reaped if the fork fails. `gadget` is a syscall instruction from
  // find_syscall_gadget. Must run on the thread that traces them. Returned by value (no heap):
  // the pause of a kCreateUseVmAllocations capture creates it. A helper that is the target's
  // child becomes the clone's parent and leaves `helper`; an orphaned one stays there, to be
  // killed once the target runs again. On failure the helper is gone too.
  // `step(context, name)` is told when each step is done (tests stop there to kill snapdump):
  // "dontfork-cleared", "clone-born".
  using StepHook = ForkHelper::StepHook;
  // `keep`: ranges of MADV_DONTFORK memory, each exactly a run of whole mappings, that the clone
  // must hold all the same. Their fork flag is cleared for the fork and set again right after,
  // all while the target is stopped (see docs/capture.md). `gapped[i]`: keep[i] has unmapped
  // holes (and nothing else) between its mappings, so madvise() over it answers ENOMEM once it
  // has changed them all. `kept[i]` tells whether keep[i] made it into the clone.
  struct DontForkRuns {
    std::span<const std::pair<uint64_t, uint64_t>> keep;
    std::span<const uint8_t> gapped;
    std::span<uint8_t> kept;
  };
  static VaClone create(pid_t target, ForkHelper& helper, TracedThread& carrier, uint64_t gadget,
                        DontForkRuns runs = {}, StepHook step = nullptr, void* context = nullptr);
  // Kills and reaps the clone (see destroy()).
  ~VaClone();
  VaClone(const VaClone&) = delete;
  VaClone& operator=(const VaClone&) = delete;
  // The moved-from object no longer owns the clone.
  VaClone(VaClone&& other) noexcept;
  VaClone& operator=(VaClone&&) = delete;

  pid_t pid() const { return clone_pid_; }
  // How long the fork() that made the clone took, from its injection to the child's birth: the
  // same copy of the page tables a bare fork() of the target makes, the floor of the pause.
  uint64_t fork_ns() const { return fork_ns_; }
  pid_t target() const { return target_; }
  // True if neither the clone nor a helper of it is, or will be, the target's child: freeing
  // it never touches the target.
  bool orphaned() const { return !parent_.seized(); }
  // True while the clone exists (it can be killed from outside, e.g. by the OOM killer).
  bool alive() const;

  // Closes every fd in the clone (close_range injected into the clone, not the target), so
  // that the clone does not keep the target's sockets and pipes open while a dump is written.
  // Call after the handle table was read from the clone. Must run on the tracing thread.
  void close_files();

  // Drops the clone's copy of each [start, end) range (an injected madvise(MADV_DONTNEED) in the
  // clone, never the target): pages the clone no longer maps are the target's alone again, so
  // its next write to them takes no copy-on-write fault, and the clone's memory shrinks. Its
  // bytes are gone from the clone afterwards. Must run on the tracing thread.
  void drop_memory(std::span<const std::pair<uint64_t, uint64_t>> ranges);

  // Kills the clone; with a parent helper, reaps the clone there, kills the helper and briefly
  // stops one target thread to let the target reap the helper (exit signal 0 means no SIGCHLD,
  // but only its parent can reap it). Idempotent; never throws. Must run on the tracing thread.
  void destroy() noexcept;

 private:
  VaClone(pid_t target, uint64_t gadget) : target_(target), gadget_(gadget), clone_thread_(0), parent_(0) {}
  void reap_in_target(pid_t local_pid) noexcept;  // through a brief stop of one target thread

  pid_t target_;
  pid_t clone_pid_ = 0;
  uint64_t fork_ns_ = 0;
  uint64_t gadget_;
  TracedThread clone_thread_;
  TracedThread parent_;  // the helper that is the clone's parent when it is not an orphan
  bool destroyed_ = false;
};

// True if the VA clone of `target` can be made an orphan that neither the target nor its parent
// reaps: a target that is not the init of its PID namespace (init adopts every orphan of its
// namespace, the clone included), and, in a container, a target whose parent is not that init
// (the orphan would land among the parent's children, and a container's init may never reap).
// Reads /proc: call outside the pause.
bool clone_can_be_orphaned(pid_t target);

}  // namespace snapdump::os
