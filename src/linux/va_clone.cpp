#include "linux/va_clone.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory_resource>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "common/phase_timer.h"
#include "linux/clone_steps.h"
#include "linux/procfs.h"
#include "linux/seccomp_filter.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {

using namespace clone_steps;

// MADV_DONTFORK cleared on runs of the target's memory for the fork, and set again after it, by
// madvise() calls injected into the helper that forks (it shares the target's memory, so no
// target thread carries them). Set again on every way out: by the helper, or, should it be gone,
// through the stopped carrier thread. A run whose flag could not be cleared is left as it was.
class ForkFlags {
 public:
  ForkFlags(VaClone::DontForkRuns runs, TracedThread& carrier, uint64_t gadget)
      : runs_(runs), carrier_(carrier), gadget_(gadget) {}
  ForkFlags(const ForkFlags&) = delete;
  ForkFlags& operator=(const ForkFlags&) = delete;
  ~ForkFlags() { restore(); }

  void clear(TracedThread& helper) {
    helper_ = &helper;
    helper.get_regs(regs_);
    for (size_t i = 0; i < runs_.keep.size(); ++i) {
      auto [start, end] = runs_.keep[i];
      long r = run_in_helper(helper, regs_, gadget_, SYS_madvise, {start, end - start, MADV_DOFORK, 0, 0, 0});
      runs_.kept[i] = done(i, r);
    }
  }

  void restore() noexcept {
    if (helper_ == nullptr) return;
    TracedThread* via = helper_;
    helper_ = nullptr;
    for (size_t i = 0; i < runs_.keep.size(); ++i) {
      if (!runs_.kept[i]) continue;
      auto [start, end] = runs_.keep[i];
      SyscallArgs args{start, end - start, MADV_DONTFORK, 0, 0, 0};
      long r = -1;
      try {
        if (via != nullptr && via->seized()) r = run_in_helper(*via, regs_, gadget_, SYS_madvise, args);
      } catch (...) {
        via = nullptr;
      }
      if (!done(i, r) && carrier_.seized()) {
        try {
          user_regs_struct saved{};
          carrier_.get_regs(saved);
          r = inject_syscall(carrier_, saved, gadget_, SYS_madvise, args).result;
        } catch (...) {
        }
      }
    }
  }

 private:
  // Whether madvise() over run i changed every mapping in it: 0, or ENOMEM for a run with holes
  // (the kernel reports the holes after changing every mapping). A run starts and ends at the
  // edges of mappings, so clearing splits nothing; setting the flag again may have to split off
  // a neighbour the clear merged the edge mapping with, which fails only when the kernel is out
  // of memory, unnoticed in a run with holes: that mapping is then left fork-able, the harmless
  // leftover docs/capture.md allows (a later fork() of the target copies more).
  bool done(size_t i, long r) const { return r == 0 || (r == -ENOMEM && i < runs_.gapped.size() && runs_.gapped[i]); }

  VaClone::DontForkRuns runs_;
  TracedThread& carrier_;
  uint64_t gadget_;
  TracedThread* helper_ = nullptr;
  user_regs_struct regs_{};
};

// The tracer's thread and the helper on the CPU the tracer runs on, while the helper carries
// the calls of the fork (the clears, the fork, the restores), and the tracer's own CPUs back
// after. Each call is a round trip: the tracer's wait sleeps, the helper runs the call and stops,
// the tracer wakes. With the two on different CPUs each half is a wake-up of another CPU, an
// inter-processor interrupt, which a virtual machine pays dearly for; on one CPU neither is. For
// node (7 runs), the 7 restores after the fork took 0.45 to 0.9 ms unpinned and 0.35 to 0.5 ms
// pinned, and its pause went from 0.93-0.97 to 0.82-0.85 x its bound at the median. Nothing of
// the target's is pinned: the helper is snapdump's (a kept helper never runs but for an injected
// wait4 at free). Where either cannot be pinned (a cpuset without that CPU, no right to), neither
// is, and the calls only take longer.
class SameCpu {
 public:
  explicit SameCpu(pid_t helper) {
    int cpu = sched_getcpu();
    if (cpu < 0 || cpu >= CPU_SETSIZE || sched_getaffinity(0, sizeof own_, &own_) != 0) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    if (sched_setaffinity(helper, sizeof one, &one) != 0) return;
    pinned_ = sched_setaffinity(0, sizeof one, &one) == 0;
  }
  ~SameCpu() {
    if (pinned_) sched_setaffinity(0, sizeof own_, &own_);
  }
  SameCpu(const SameCpu&) = delete;
  SameCpu& operator=(const SameCpu&) = delete;

 private:
  cpu_set_t own_{};
  bool pinned_ = false;
};


}  // namespace

VaClone VaClone::create(pid_t target, ForkHelper& helper, TracedThread& carrier, uint64_t gadget, DontForkRuns runs,
                        StepHook step, void* context) {
  auto done = [&](const char* name) {
    if (step != nullptr) step(context, name);
  };
  VaClone clone(target, gadget);
  std::fill(runs.kept.begin(), runs.kept.end(), 0);
  // Declared after the clone, so its restore runs before a failed clone is destroyed.
  std::optional<ForkFlags> fork_flags;
  try {
    if (!helper.ready()) throw Error(Errc::internal, "no helper to fork the VA clone from");
    if (!helper.shares_memory()) {
      throw Error(Errc::internal, fmt::format("process {} started another program (execve) while it was being "
                                              "captured; capture it again",
                                              target));
    }
    TracedThread& forker = helper.helper_;
    SameCpu same_cpu(forker.tid());
    if (!runs.keep.empty()) {
      fork_flags.emplace(runs, carrier, gadget);
      fork_flags->clear(forker);
      done("dontfork-cleared");
    }
    user_regs_struct forker_regs{};
    forker.get_regs(forker_regs);
    // 3. The fork: the copy-on-write copy of the memory the helper shares with the target,
    //    taken while every target thread is stopped. The clone inherits PTRACE_O_EXITKILL.
    uint64_t fork_start = monotonic_ns();
    clone.clone_pid_ = inject_clone(target, forker, forker_regs, gadget, 0, PTRACE_O_EXITKILL);
    clone.fork_ns_ = monotonic_ns() - fork_start;
    if (fork_flags) fork_flags->restore();
    clone.clone_thread_ = adopt_newborn(target, clone.clone_pid_, "VA clone");
    park(clone.clone_thread_, gadget);
    // 4. A helper that is the target's child stays as the clone's parent; an orphaned one is
    //    left in `helper`, killed once the target runs again (it is nobody's concern but its
    //    reaper's, and its kill need not lengthen the pause).
    if (helper.target_child_) clone.parent_ = std::move(helper.helper_);
    done("clone-born");
  } catch (...) {
    // Undone while the carrier is still stopped, so a helper that is the target's child is
    // reaped through it. A helper is always killed, never detached: detached, it would run.
    // The fork flags first, while the helper that cleared them still lives.
    if (fork_flags) fork_flags->restore();
    clone.destroyed_ = true;
    TracedThread& parent = clone.parent_.seized() ? clone.parent_ : helper.helper_;
    bool target_child = clone.parent_.seized() || helper.target_child_;
    if (clone.clone_pid_ != 0) {
      pid_t local = read_namespace_pids(clone.clone_pid_).innermost;
      kill(clone.clone_pid_, SIGKILL);
      int status = 0;
      try {
        wait_for(clone.clone_pid_, kStopTimeout, &status);
      } catch (...) {
      }
      clone.clone_thread_.forget();
      if (parent.seized() && local > 0) reap_through(parent, parent.tid(), local, gadget);
    }
    if (parent.seized()) {
      pid_t local = kill_helper(parent);
      if (target_child && local > 0 && carrier.seized()) reap_through(carrier, target, local, gadget);
    }
    throw;
  }
  return clone;
}

VaClone::VaClone(VaClone&& other) noexcept
    : target_(other.target_),
      clone_pid_(other.clone_pid_),
      fork_ns_(other.fork_ns_),
      gadget_(other.gadget_),
      clone_thread_(std::move(other.clone_thread_)),
      parent_(std::move(other.parent_)),
      destroyed_(other.destroyed_) {
  other.destroyed_ = true;
}

VaClone::~VaClone() { destroy(); }

bool VaClone::alive() const {
  if (destroyed_ || clone_pid_ == 0) return false;
  return ::kill(clone_pid_, 0) == 0 && read_parent_pid(clone_pid_) != 0;
}

void VaClone::close_files() {
  if (destroyed_ || !clone_thread_.seized()) return;
  SyscallArgs args{0, ~0u, 0, 0, 0, 0};
  // The clone inherits the target's seccomp filters. One that would not let close_range through
  // costs only this nicety: the clone then holds the target's fds until it is freed.
  if (check_seccomp(clone_pid_, clone_pid_, injected_call(SYS_close_range, args, gadget_)).verdict !=
      SeccompVerdict::allowed) {
    return;
  }
  user_regs_struct parked{};
  clone_thread_.get_regs(parked);
  InjectedSyscall r = inject_syscall(clone_thread_, parked, gadget_, SYS_close_range, args);
  if (r.result < 0 && r.result != -ENOSYS) {
    throw Error(Errc::internal, fmt::format("close_range in the VA clone failed: {}",
                                            std::strerror(static_cast<int>(-r.result))));
  }
}

void VaClone::drop_memory(std::span<const std::pair<uint64_t, uint64_t>> ranges) {
  if (destroyed_ || !clone_thread_.seized() || ranges.empty()) return;
  // The clone inherits the target's filters; one that refuses madvise only keeps the memory.
  SyscallArgs probe{ranges.front().first, ranges.front().second - ranges.front().first, MADV_DONTNEED, 0, 0, 0};
  if (check_seccomp(clone_pid_, clone_pid_, injected_call(SYS_madvise, probe, gadget_)).verdict !=
      SeccompVerdict::allowed) {
    return;
  }
  user_regs_struct regs{};
  clone_thread_.get_regs(regs);
  for (auto [start, end] : ranges) {
    // A range that is no longer mapped in the clone (or has locked pages) is simply kept.
    run_in_helper(clone_thread_, regs, gadget_, SYS_madvise, {start, end - start, MADV_DONTNEED, 0, 0, 0});
  }
  park(clone_thread_, gadget_);
}

void VaClone::destroy() noexcept {
  if (destroyed_) return;
  destroyed_ = true;
  pid_t local = 0;
  if (clone_pid_ != 0) {
    local = parent_.seized() ? read_namespace_pids(clone_pid_).innermost : 0;
    kill(clone_pid_, SIGKILL);
    int status = 0;
    try {
      // As its tracer we see the death first; our wait hands the zombie to its real parent:
      // the helper that made it, or for an orphan the reaper the kernel chose.
      wait_for(clone_pid_, kStopTimeout, &status);
    } catch (...) {
    }
    clone_thread_.forget();
  }
  if (!parent_.seized()) return;
  // The helper reaps the clone (no stop of the target), then is killed; the target reaps it.
  if (local > 0) reap_through(parent_, parent_.tid(), local, gadget_);
  pid_t helper_local = kill_helper(parent_);
  if (helper_local > 0) reap_in_target(helper_local);
}

void VaClone::reap_in_target(pid_t local_pid) noexcept { reap_in(target_, local_pid, gadget_); }

bool clone_can_be_orphaned(pid_t target) {
  NamespacePids own = read_namespace_pids(target);
  if (own.levels == 0 || own.innermost == 1) return false;  // the namespace's init adopts its orphans
  // With no subreaper in between, the orphan goes to the namespace's init. If that is the
  // target's parent inside a container, the clone would end up among the parent's children,
  // and a container's init is often an application that never reaps: keep it with a helper
  // that is the target's child then. (A parent in the same namespace has as many NSpid entries
  // as the target.) The host's init (systemd, ...) reaps every orphan: a daemon whose parent it
  // is still gets an orphaned clone.
  NamespacePids parent = read_namespace_pids(read_parent_pid(target));
  if (own.levels > 1 && parent.levels == own.levels && parent.innermost == 1) return false;
  return true;
}

}  // namespace snapdump::os
