#include "linux/clone_steps.h"

#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory_resource>
#include <vector>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "linux/seccomp_filter.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"
#include "snapdump/error.h"

namespace snapdump::os::clone_steps {

uint64_t helper_flags() { return CLONE_VM | CLONE_FS | CLONE_FILES; }

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
      {SYS_clone, {helper_flags(), 0, 0, 0, 0, 0}, "clone(CLONE_VM|CLONE_FS|CLONE_FILES)"},
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

bool stop_goes_unseen(pid_t target, pid_t tid) noexcept {
  SyscallState sc;
  return read_syscall(target, tid, sc) == 0 && !interrupted_by_stop(sc.number);
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
      if (!stop_goes_unseen(target, tid)) continue;
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


}  // namespace snapdump::os::clone_steps
