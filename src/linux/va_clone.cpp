#include "linux/va_clone.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory_resource>
#include <span>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "linux/seccomp_filter.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {
constexpr std::chrono::milliseconds kStopTimeout{5000};
constexpr uint64_t kTrapFlag = 0x100;


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

// Every call making and reaping the clone injects into the target (or into a child that
// inherits its filters), checked against the carrier thread's seccomp filters before the first
// is made: a target killed or sent SIGSYS by its own filter for a call it never made is the
// harm snapdump must never do. Throws, having injected nothing, unless all are allowed.
// wait4's pid is not known yet; filters that allow it for some children and not others are
// checked again when it is made.
void check_clone_calls(pid_t target, const TracedThread& thread, uint64_t gadget, bool orphan) {
  struct Call {
    long number;
    SyscallArgs args;
    const char* name;
  };
  const Call orphan_calls[] = {
      {SYS_clone, {CLONE_VM | CLONE_FS | CLONE_FILES, 0, 0, 0, 0, 0}, "clone(CLONE_VM|CLONE_FS|CLONE_FILES)"},
      {SYS_clone, {0, 0, 0, 0, 0, 0}, "clone(0)"},
      {SYS_wait4, {static_cast<uint64_t>(target), 0, __WALL | WNOHANG, 0, 0, 0}, "wait4(__WALL|WNOHANG)"},
  };
  const Call child_calls[] = {
      {SYS_clone, {0, 0, 0, 0, 0, 0}, "clone(0)"},
      {SYS_wait4, {static_cast<uint64_t>(target), 0, __WALL, 0, 0, 0}, "wait4(__WALL)"},
  };
  // One /proc read in the pause for the usual target, which has no filter.
  if (seccomp_mode(target, thread.tid()) == SECCOMP_MODE_DISABLED) return;
  std::span<const Call> calls = orphan ? std::span<const Call>(orphan_calls) : std::span<const Call>(child_calls);
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

// A child born traced (PTRACE_EVENT_CLONE) is stopped; from the moment it is adopted, the kernel
// kills it if snapdump dies.
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

// Kills the memory-sharing helper and has the (stopped) target thread reap it. Runs on every
// way out of create_orphan, success or failure.
class HelperReaper {
 public:
  HelperReaper(pid_t helper, TracedThread& thread, const user_regs_struct& saved, uint64_t gadget)
      : helper_(helper), thread_(thread), saved_(saved), gadget_(gadget) {}
  HelperReaper(const HelperReaper&) = delete;
  HelperReaper& operator=(const HelperReaper&) = delete;
  ~HelperReaper() { reap(); }

  // Returns false if the target did not reap the helper.
  bool reap() noexcept {
    if (done_) return true;
    done_ = true;
    // SIGKILL, not an injected exit: the helper shares the target's memory and must not run.
    kill(helper_, SIGKILL);
    int status = 0;
    try {
      // As its tracer we see the death first; our wait hands the zombie to the target.
      // Its number in the target's namespace, read while /proc still lists the zombie.
      pid_t local = read_namespace_pids(helper_).innermost;
      wait_for(helper_, kStopTimeout, &status);
      if (local <= 0) return false;
      SyscallArgs args{static_cast<uint64_t>(local), 0, __WALL | WNOHANG, 0, 0, 0};
      // /proc/TID/task/TID names a thread whatever its process.
      if (check_seccomp(thread_.tid(), thread_.tid(), injected_call(SYS_wait4, args, gadget_)).verdict !=
          SeccompVerdict::allowed) {
        return false;
      }
      for (int attempt = 0; attempt < 3; ++attempt) {
        InjectedSyscall r = inject_syscall(thread_, saved_, gadget_, SYS_wait4, args);
        if (r.result == local) return true;
        if (r.result < 0) return false;
      }
    } catch (...) {
    }
    return false;
  }

 private:
  pid_t helper_;
  TracedThread& thread_;
  const user_regs_struct& saved_;
  uint64_t gadget_;
  bool done_ = false;
};
}  // namespace

VaClone VaClone::create(pid_t target, TracedThread& thread, const user_regs_struct& saved,
                        uint64_t gadget, bool orphan) {
  check_clone_calls(target, thread, gadget, orphan);
  if (orphan) return create_orphan(target, thread, saved, gadget);
  // clone(flags = 0, ...) is fork() without glibc's atfork handlers: a new process with a
  // copy-on-write copy of the memory and fd table, and exit signal 0, so its parent (the
  // target) gets no SIGCHLD for it.
  pid_t child = inject_clone(target, thread, saved, gadget, 0, 0);
  TracedThread clone_thread = adopt_newborn(target, child, "VA clone");
  VaClone clone(target, child, gadget, std::move(clone_thread));
  park(clone.clone_thread_, gadget);
  return clone;
}

VaClone VaClone::create_orphan(pid_t target, TracedThread& thread, const user_regs_struct& saved,
                               uint64_t gadget) {
  // The helper shares the target's memory, files and fs (nothing is copied for it) and has exit
  // signal 0. It inherits the trap flag and full signal mask single_step_child sets, so it too
  // could never run the target's code. Its own options keep PTRACE_O_EXITKILL throughout.
  pid_t helper_pid = inject_clone(target, thread, saved, gadget, CLONE_VM | CLONE_FS | CLONE_FILES, 0);
  TracedThread helper = [&] {
    try {
      return adopt_newborn(target, helper_pid, "clone helper");
    } catch (...) {
      HelperReaper(helper_pid, thread, saved, gadget).reap();
      throw;
    }
  }();
  // Declared after `helper`, so on any way out it kills the helper before `helper` would detach
  // it (a detached helper would run).
  HelperReaper reaper(helper_pid, thread, saved, gadget);
  user_regs_struct helper_regs{};
  helper.get_regs(helper_regs);
  // The helper's fork is the clone: the copy-on-write copy of the memory it shares with the
  // target, made while every target thread is stopped.
  pid_t child = inject_clone(target, helper, helper_regs, gadget, 0, PTRACE_O_EXITKILL);
  VaClone clone(target, child, gadget, adopt_newborn(target, child, "VA clone"));
  // Until the helper is gone the clone is the helper's child, not the target's: a failure
  // from here kills it without asking the target to reap it.
  clone.orphaned_ = true;
  park(clone.clone_thread_, gadget);
  if (!reaper.reap()) {
    // Most likely the target died (SIGKILL from elsewhere) while it was stopped here.
    if (!thread.seized() || (::kill(target, 0) != 0 && errno == ESRCH)) {
      throw Error(Errc::process_exited, fmt::format("process {} exited while its VA clone was made", target));
    }
    throw Error(Errc::internal,
                fmt::format("process {} did not reap the clone helper {}", target, helper_pid));
  }
  helper.forget();
  // The kernel handed the clone to the nearest child subreaper or to init, with exit signal
  // SIGCHLD. A target that is itself a subreaper adopts it: it is then the target's child as
  // before, to be reaped by the target.
  clone.orphaned_ = read_parent_pid(child) != target;
  return clone;
}

VaClone::VaClone(VaClone&& other) noexcept
    : target_(other.target_),
      clone_pid_(other.clone_pid_),
      gadget_(other.gadget_),
      clone_thread_(std::move(other.clone_thread_)),
      orphaned_(other.orphaned_),
      destroyed_(other.destroyed_) {
  other.destroyed_ = true;
}

VaClone::~VaClone() { destroy(); }

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

void VaClone::destroy() noexcept {
  if (destroyed_) return;
  destroyed_ = true;
  pid_t local = orphaned_ ? 0 : read_namespace_pids(clone_pid_).innermost;
  kill(clone_pid_, SIGKILL);
  int status = 0;
  try {
    // As its tracer we see the death first; our wait hands the zombie to its real parent,
    // which for an orphan is the reaper the kernel chose.
    wait_for(clone_pid_, kStopTimeout, &status);
  } catch (...) {
  }
  clone_thread_.forget();
  if (!orphaned_ && local > 0) reap_in_target(local);
}

void VaClone::reap_in_target(pid_t local_pid) noexcept {
  try {
    // The thread list on the stack (16k threads; more spill to the heap): freeing a snapshot of
    // a kCreateUseVmAllocations capture takes no heap either.
    alignas(pid_t) char room[64 << 10];
    std::pmr::monotonic_buffer_resource memory(room, sizeof room);
    std::pmr::vector<pid_t> tids(&memory);
    tids.reserve(sizeof room / sizeof(pid_t) / 2);
    if (list_threads(target_, tids) != 0) return;
    // Pick a thread a stop does not disturb: one not blocked in a call that a stop turns into
    // EINTR (the main thread first, as it is the most likely to be in an ordinary call).
    for (pid_t tid : tids) {
      SyscallState sc;
      if (read_syscall(target_, tid, sc) != 0 || interrupted_by_stop(sc.number)) continue;
      TracedThread t(tid);
      if (!t.seize()) continue;
      if (!t.interrupt() || t.wait_stop(kStopTimeout) != StopResult::stopped) continue;
      SyscallArgs args{static_cast<uint64_t>(local_pid), 0, __WALL, 0, 0, 0};
      // Threads may run under different filters: use one whose filters let wait4 through.
      if (check_seccomp(target_, tid, injected_call(SYS_wait4, args, gadget_)).verdict != SeccompVerdict::allowed) {
        t.release();
        continue;
      }
      user_regs_struct saved{};
      t.get_regs(saved);
      inject_syscall(t, saved, gadget_, SYS_wait4, args);
      t.release();
      return;
    }
  } catch (...) {
    // The target exited: its children, the zombie clone included, go to init, which reaps.
  }
}

bool clone_can_be_orphaned(pid_t target) {
  struct utsname u{};
  if (uname(&u) != 0) return false;
  int major = 0, minor = 0;
  if (std::sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
  if (major < 5 || (major == 5 && minor < 16)) return false;
  NamespacePids own = read_namespace_pids(target);
  if (own.levels == 0 || own.innermost == 1) return false;  // the namespace's init adopts its orphans
  // With no subreaper in between, the orphan goes to the namespace's init. If that is the
  // target's parent inside a container, the clone would end up among the parent's children,
  // and a container's init is often an application that never reaps: keep it the target's
  // child then. (A parent in the same namespace has as many NSpid entries as the target.) The
  // host's init (systemd, ...) reaps every orphan: a daemon whose parent it is still gets an
  // orphaned clone.
  NamespacePids parent = read_namespace_pids(read_parent_pid(target));
  if (own.levels > 1 && parent.levels == own.levels && parent.innermost == 1) return false;
  return true;
}

}  // namespace snapdump::os
