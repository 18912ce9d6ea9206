#include "linux/va_clone.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cstring>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {
constexpr std::chrono::milliseconds kStopTimeout{5000};
constexpr uint64_t kTrapFlag = 0x100;
}  // namespace

VaClone VaClone::create(pid_t target, TracedThread& thread, const user_regs_struct& saved,
                        uint64_t gadget) {
  // clone(flags = 0, ...) is fork() without glibc's atfork handlers: a new process with a
  // copy-on-write copy of the memory and fd table, and exit signal 0, so its parent (the
  // target) gets no SIGCHLD for it.
  InjectedSyscall r = inject_syscall(thread, saved, gadget, SYS_clone, {0, 0, 0, 0, 0, 0},
                                     /*trace_clone=*/true, /*single_step_child=*/true);
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
  pid_t child = r.new_child != 0 ? r.new_child : static_cast<pid_t>(r.result);
  TracedThread clone_thread = TracedThread::adopt(child);
  if (clone_thread.wait_stop(kStopTimeout) != StopResult::stopped) {
    throw Error(Errc::internal, fmt::format("the VA clone {} of process {} vanished at birth", child, target));
  }
  // From here on the kernel kills the clone if snapdump dies.
  clone_thread.set_options(PTRACE_O_EXITKILL);
  // Park it on exit_group(0): should it ever be resumed, it leaves at once.
  user_regs_struct park{};
  clone_thread.get_regs(park);
  park.rip = gadget;
  park.rax = SYS_exit_group;
  park.rdi = 0;
  park.orig_rax = static_cast<unsigned long long>(-1);
  park.eflags &= ~kTrapFlag;
  clone_thread.set_regs(park);
  return VaClone(target, child, gadget, std::move(clone_thread));
}

VaClone::VaClone(VaClone&& other) noexcept
    : target_(other.target_),
      clone_pid_(other.clone_pid_),
      gadget_(other.gadget_),
      clone_thread_(std::move(other.clone_thread_)),
      destroyed_(other.destroyed_) {
  other.destroyed_ = true;
}

VaClone::~VaClone() { destroy(); }

void VaClone::close_files() {
  if (destroyed_ || !clone_thread_.seized()) return;
  user_regs_struct parked{};
  clone_thread_.get_regs(parked);
  InjectedSyscall r = inject_syscall(clone_thread_, parked, gadget_, SYS_close_range, {0, ~0u, 0, 0, 0, 0});
  if (r.result < 0 && r.result != -ENOSYS) {
    throw Error(Errc::internal, fmt::format("close_range in the VA clone failed: {}",
                                            std::strerror(static_cast<int>(-r.result))));
  }
}

void VaClone::destroy() noexcept {
  if (destroyed_) return;
  destroyed_ = true;
  kill(clone_pid_, SIGKILL);
  int status = 0;
  try {
    // As its tracer we see the death first; our wait hands the zombie to its real parent.
    wait_for(clone_pid_, kStopTimeout, &status);
  } catch (...) {
  }
  clone_thread_.forget();
  reap_in_target();
}

void VaClone::reap_in_target() noexcept {
  try {
    std::vector<pid_t> tids = list_threads(target_);
    // Pick a thread a stop does not disturb: one not blocked in a call that a stop turns into
    // EINTR (the main thread first, as it is the most likely to be in an ordinary call).
    for (pid_t tid : tids) {
      SyscallState sc = read_syscall(target_, tid);
      if (interrupted_by_stop(sc.number)) continue;
      TracedThread t(tid);
      if (!t.seize()) continue;
      if (!t.interrupt() || t.wait_stop(kStopTimeout) != StopResult::stopped) continue;
      user_regs_struct saved{};
      t.get_regs(saved);
      inject_syscall(t, saved, gadget_, SYS_wait4, {static_cast<uint64_t>(clone_pid_), 0, __WALL, 0, 0, 0});
      t.release();
      return;
    }
  } catch (...) {
    // The target exited: its children, the zombie clone included, go to init, which reaps.
  }
}

}  // namespace snapdump::os
