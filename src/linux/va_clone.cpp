#include "linux/va_clone.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/kcmp.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory_resource>
#include <optional>
#include <span>

#include <fmt/format.h>

#include "common/phase_timer.h"
#include "linux/procfs.h"
#include "linux/seccomp_filter.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {
constexpr std::chrono::milliseconds kStopTimeout{5000};
constexpr uint64_t kTrapFlag = 0x100;
// A helper shares the target's memory, files and fs: nothing is copied for it, so the call that
// makes it is as quick as a thread's creation.
constexpr uint64_t kHelperFlags = CLONE_VM | CLONE_FS | CLONE_FILES;

pid_t inject_clone(pid_t target, TracedThread& thread, const user_regs_struct& regs, uint64_t gadget,
                   uint64_t flags, unsigned long kept_options) {
  InjectedSyscall r = inject_syscall(thread, regs, gadget, SYS_clone, {flags, 0, 0, 0, 0, 0},
                                     /*trace_clone=*/true, /*single_step_child=*/true, kept_options);
  if (r.result < 0) {
    int err = static_cast<int>(-r.result);
    throw Error(errc_from_errno(err),
                fmt::format("clone() injected into process {} failed: {}{}", target,
                            std::strerror(err),
                            err == ENOMEM ? " (vm.overcommit_memory=2 or a memory cgroup limit "
                                            "refuses the copy; capture without VA clone)"
                                          : ""),
                err);
  }
  return r.new_child != 0 ? r.new_child : static_cast<pid_t>(r.result);
}

// Every call making and reaping the clone is injected into the target or into a helper that
// inherits its filters, so all are checked against the carrier thread's seccomp filters before
// the first is made: a target killed or sent SIGSYS by its own filter for a call it never made
// is the harm snapdump must never do. Throws, having injected nothing, unless all are allowed.
// wait4's pid is not known yet; filters that allow it for some children and not others are
// checked again when it is made.
void check_clone_calls(pid_t target, const TracedThread& thread, uint64_t gadget) {
  struct Call {
    long number;
    SyscallArgs args;
    const char* name;
  };
  const Call calls[] = {
      {SYS_clone, {kHelperFlags, 0, 0, 0, 0, 0}, "clone(CLONE_VM|CLONE_FS|CLONE_FILES)"},
      {SYS_clone, {0, 0, 0, 0, 0, 0}, "clone(0)"},
      {SYS_wait4, {static_cast<uint64_t>(target), 0, __WALL | WNOHANG, 0, 0, 0}, "wait4(__WALL|WNOHANG)"},
  };
  // One /proc read in the pause for the usual target, which has no filter.
  if (seccomp_mode(target, thread.tid()) == SECCOMP_MODE_DISABLED) return;
  for (const Call& call : calls) {
    SeccompCheck c = check_seccomp(target, thread.tid(), injected_call(call.number, call.args, gadget));
    if (c.verdict == SeccompVerdict::allowed) continue;
    constexpr const char* kFix = "nothing was injected; capture without kVaClone (snapdump dump --no-clone)";
    if (c.verdict == SeccompVerdict::unknown) {
      throw Error(c.error == EACCES || c.error == EPERM ? Errc::permission_denied : Errc::not_supported,
                  fmt::format("process {} runs under a seccomp filter that snapdump cannot read ({}; "
                              "PTRACE_SECCOMP_GET_FILTER needs CAP_SYS_ADMIN): the {} that makes a VA clone "
                              "could kill it, so {}",
                              target, std::strerror(c.error), call.name, kFix),
                  c.error);
    }
    throw Error(Errc::not_supported,
                fmt::format("process {} (thread {}): its seccomp filter would {} the {} that makes a VA clone; {}",
                            target, thread.tid(), seccomp_effect(c.action), call.name, kFix));
  }
}

// A child born traced (PTRACE_EVENT_CLONE) is stopped; from the moment it has PTRACE_O_EXITKILL
// (set here, or inherited at birth from a helper that had it) the kernel kills it if its tracer
// dies.
TracedThread adopt_newborn(pid_t target, pid_t child, const char* what) {
  TracedThread t = TracedThread::adopt(child);
  if (t.wait_stop(kStopTimeout) != StopResult::stopped) {
    throw Error(Errc::internal, fmt::format("the {} {} of process {} vanished at birth", what, child, target));
  }
  t.set_options(PTRACE_O_EXITKILL);
  return t;
}

// Parks the clone on exit_group(0): should it ever be resumed, it leaves at once.
void park(TracedThread& t, uint64_t gadget) {
  user_regs_struct park{};
  t.get_regs(park);
  park.rip = gadget;
  park.rax = SYS_exit_group;
  park.rdi = 0;
  park.orig_rax = static_cast<unsigned long long>(-1);
  park.eflags &= ~kTrapFlag;
  t.set_regs(park);
}

// Injects wait4(local, NULL, __WALL | WNOHANG, NULL) into `reaper` (stopped) if its filters
// allow it; `local` is the child's pid as the reaper's namespace numbers it. Never blocks: the
// child is a zombie already (its tracer's wait handed it to its parent). Returns true if the
// child was reaped.
bool reap_through(TracedThread& reaper, pid_t reaper_pid, pid_t local, uint64_t gadget) noexcept {
  try {
    SyscallArgs args{static_cast<uint64_t>(local), 0, __WALL | WNOHANG, 0, 0, 0};
    if (check_seccomp(reaper_pid, reaper.tid(), injected_call(SYS_wait4, args, gadget)).verdict !=
        SeccompVerdict::allowed) {
      return false;
    }
    user_regs_struct saved{};
    reaper.get_regs(saved);
    // The tracer's wait puts the zombie on its parent's list before it returns; the retries
    // are for a kernel that ever did otherwise.
    for (int attempt = 0; attempt < 3; ++attempt) {
      InjectedSyscall r = inject_syscall(reaper, saved, gadget, SYS_wait4, args);
      if (r.result == local) return true;
      if (r.result < 0) return false;
      timespec ts{0, 1'000'000};
      nanosleep(&ts, nullptr);
    }
  } catch (...) {
  }
  return false;
}

// Kills a helper (SIGKILL, never an injected exit: it shares the target's memory and must not
// run) and waits for it as its tracer, which hands its zombie to its parent. Returns its pid in
// its parent's namespace, read while /proc still lists it.
pid_t kill_helper(TracedThread& helper) noexcept {
  pid_t local = read_namespace_pids(helper.tid()).innermost;
  kill(helper.tid(), SIGKILL);
  int status = 0;
  try {
    wait_for(helper.tid(), kStopTimeout, &status);
  } catch (...) {
  }
  helper.forget();
  return local;
}

// Reaps the target's child `local_pid` (a zombie) with an injected wait4 in one of the target's
// threads, stopped for that call alone; the others run on.
void reap_in(pid_t target, pid_t local_pid, uint64_t gadget) noexcept {
  try {
    // The thread list on the stack (16k threads; more spill to the heap): freeing a snapshot of
    // a kCreateUseVmAllocations capture takes no heap either.
    alignas(pid_t) char room[64 << 10];
    std::pmr::monotonic_buffer_resource memory(room, sizeof room);
    std::pmr::vector<pid_t> tids(&memory);
    tids.reserve(sizeof room / sizeof(pid_t) / 2);
    if (list_threads(target, tids) != 0) return;
    // Pick a thread a stop does not disturb: one not blocked in a call that a stop turns into
    // EINTR (the main thread first, as it is the most likely to be in an ordinary call).
    for (pid_t tid : tids) {
      SyscallState sc;
      if (read_syscall(target, tid, sc) != 0 || interrupted_by_stop(sc.number)) continue;
      TracedThread t(tid);
      if (!t.seize()) continue;
      if (!t.interrupt() || t.wait_stop(kStopTimeout) != StopResult::stopped) continue;
      bool reaped = reap_through(t, target, local_pid, gadget);
      t.release();
      if (reaped) return;
    }
  } catch (...) {
    // The target exited: its children, the zombie helper included, go to init, which reaps.
  }
}

// H1, the target's only child, from its birth to its reaping: on every way out of create(), it
// is killed and reaped by the (stopped) carrier thread, unless it was kept as the clone's parent.
class FirstHelper {
 public:
  FirstHelper(TracedThread& carrier, pid_t target, uint64_t gadget)
      : carrier_(carrier), target_(target), gadget_(gadget), helper_(0) {}
  FirstHelper(const FirstHelper&) = delete;
  FirstHelper& operator=(const FirstHelper&) = delete;
  ~FirstHelper() { reap(); }

  void born(pid_t pid) { pid_ = pid; }
  TracedThread& adopt() { return helper_ = adopt_newborn(target_, pid_, "clone helper"); }
  // Hands the helper over (as the clone's parent): no longer killed here.
  TracedThread keep() {
    pid_ = 0;
    return std::move(helper_);
  }
  // Returns false if the target did not reap it.
  bool reap() noexcept {
    if (pid_ == 0) return true;
    pid_t pid = std::exchange(pid_, 0);
    pid_t local = 0;
    if (helper_.seized()) {
      local = kill_helper(helper_);
    } else {
      // Born but never adopted (it vanished, or adopting failed): it is traced all the same.
      local = read_namespace_pids(pid).innermost;
      kill(pid, SIGKILL);
      int status = 0;
      try {
        wait_for(pid, kStopTimeout, &status);
      } catch (...) {
      }
    }
    return local > 0 && carrier_.seized() && reap_through(carrier_, target_, local, gadget_);
  }

 private:
  TracedThread& carrier_;
  pid_t target_;
  uint64_t gadget_;
  TracedThread helper_;
  pid_t pid_ = 0;
};

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

[[noreturn]] void throw_helper_not_reaped(pid_t target, const TracedThread& carrier) {
  // Most likely the target died (SIGKILL from elsewhere) while it was stopped here. A process
  // being killed is a zombie, or still on its way there, for a moment after its carrier's wait
  // failed: look again for a while before calling it anything else (an error path only).
  for (int i = 0; i < 40; ++i) {
    if (!carrier.seized() || (::kill(target, 0) != 0 && errno == ESRCH) || process_gone(target) ||
        process_gone(carrier.tid())) {
      throw Error(Errc::process_exited, fmt::format("process {} exited while its VA clone was made", target));
    }
    timespec pause{0, 5'000'000};
    nanosleep(&pause, nullptr);
  }
  throw Error(Errc::internal, fmt::format("process {} did not reap the clone helper", target));
}

}  // namespace

ForkHelper ForkHelper::make(pid_t target, TracedThread& carrier, const user_regs_struct& saved, uint64_t gadget,
                            bool orphan, StepHook step, void* context) {
  auto done = [&](const char* name) {
    if (step != nullptr) step(context, name);
  };
  check_clone_calls(target, carrier, gadget);
  ForkHelper out(target, gadget);
  FirstHelper first(carrier, target, gadget);
  try {
    // 1. The carrier makes H1. inject_syscall gives the carrier its registers and signal mask
    //    back at the syscall-exit stop, before anything else happens.
    first.born(inject_clone(target, carrier, saved, gadget, kHelperFlags, 0));
    TracedThread& h1 = first.adopt();
    done("helper-born");
    if (orphan) {
      // 2. H1 makes H2, which inherits H1's PTRACE_O_EXITKILL at birth: no moment exists at
      //    which its tracer's death would let it run. Then H1 is killed and reaped by the
      //    carrier, and H2 belongs to the nearest subreaper or init.
      user_regs_struct h1_regs{};
      h1.get_regs(h1_regs);
      pid_t h2 = inject_clone(target, h1, h1_regs, gadget, kHelperFlags, PTRACE_O_EXITKILL);
      out.helper_ = adopt_newborn(target, h2, "clone helper");
      done("second-helper-born");
      if (!first.reap()) throw_helper_not_reaped(target, carrier);
      done("helper-reaped");
      // A target that is itself a child subreaper adopts H2: H2 then is the target's child and
      // stays the clone's parent, as H1 does when no orphan is possible.
      out.target_child_ = read_parent_pid(h2) == target;
    } else {
      out.helper_ = first.keep();
      out.target_child_ = true;
    }
  } catch (...) {
    // H1 is handled by `first`; H2, killed here, is reaped through the carrier if the target
    // adopted it.
    if (out.helper_.seized()) {
      pid_t local = kill_helper(out.helper_);
      if (out.target_child_ && local > 0 && carrier.seized()) reap_through(carrier, target, local, gadget);
    }
    throw;
  }
  return out;
}

ForkHelper ForkHelper::make_before_pause(pid_t target, uint64_t gadget, bool orphan,
                                         std::chrono::milliseconds stop_timeout, StepHook step, void* context) {
  alignas(pid_t) char room[16 << 10];
  std::pmr::monotonic_buffer_resource memory(room, sizeof room);
  std::pmr::vector<pid_t> tids(&memory);
  if (list_threads(target, tids) != 0) return {};
  // A thread whose call a stop does not turn into EINTR (it is restarted unseen), so the stop
  // costs it nothing but the time. Another thread than the leader where one qualifies, as in the
  // pause, although the reason there (a traced leader's death is not reported to its tracer
  // while its traced siblings are unreaped, TargetPause::make_clone) does not hold here, where
  // no sibling is traced: the leader is the last choice.
  pid_t chosen = 0;
  bool leader_fits = false;
  for (pid_t tid : tids) {
    SyscallState sc;
    if (read_syscall(target, tid, sc) != 0 || interrupted_by_stop(sc.number)) continue;
    if (tid == target) {
      leader_fits = true;
      continue;
    }
    chosen = tid;
    break;
  }
  if (chosen == 0 && leader_fits) chosen = target;
  if (chosen == 0) return {};
  TracedThread carrier(chosen);
  if (!carrier.seize()) return {};
  uint64_t start = monotonic_ns();
  if (!carrier.interrupt() || carrier.wait_stop(stop_timeout) != StopResult::stopped) return {};
  // A signal stopped it first: let it be delivered now, untouched; the pause makes the helper.
  if (carrier.pending_signal() != 0) return {};
  if (step != nullptr) step(context, "helper-carrier-stopped");
  user_regs_struct regs{};
  carrier.get_regs(regs);
  ForkHelper out = make(target, carrier, regs, gadget, orphan, step, context);
  carrier.release();
  out.carrier_stop_ns_ = monotonic_ns() - start;
  out.carrier_tid_ = chosen;
  return out;
}

ForkHelper::ForkHelper(ForkHelper&& other) noexcept
    : target_(other.target_),
      gadget_(other.gadget_),
      helper_(std::move(other.helper_)),
      target_child_(other.target_child_),
      carrier_stop_ns_(other.carrier_stop_ns_),
      carrier_tid_(other.carrier_tid_) {}

ForkHelper& ForkHelper::operator=(ForkHelper&& other) noexcept {
  if (this != &other) {
    reset();
    target_ = other.target_;
    gadget_ = other.gadget_;
    helper_ = std::move(other.helper_);
    target_child_ = other.target_child_;
    carrier_stop_ns_ = other.carrier_stop_ns_;
    carrier_tid_ = other.carrier_tid_;
  }
  return *this;
}

ForkHelper::~ForkHelper() { reset(); }

void ForkHelper::reset() noexcept {
  if (!helper_.seized()) return;
  pid_t local = kill_helper(helper_);
  if (target_child_ && local > 0) reap_in(target_, local, gadget_);
}

bool ForkHelper::shares_memory() const {
  if (!helper_.seized()) return false;
  long r = syscall(SYS_kcmp, target_, helper_.tid(), KCMP_VM, 0, 0);
  if (r == 0) return true;
  if (r > 0) return false;
  // No kcmp (a kernel without CONFIG_KCMP) or refused: the marks /proc shows of each memory.
  return same_memory_marks(target_, helper_.tid());
}

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
