#include "linux/fork_helper.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <linux/kcmp.h>
#include <unistd.h>

#include <chrono>
#include <memory_resource>
#include <utility>

#include "common/phase_timer.h"
#include "linux/clone_steps.h"
#include "linux/procfs.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {

using namespace clone_steps;

// H1, the target's only child, from its birth to its reaping: on every way out of
// ForkHelper::make(), it is killed and reaped by the (stopped) carrier thread, unless it was kept
// as the clone's parent.
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
    first.born(inject_clone(target, carrier, saved, gadget, helper_flags(), 0));
    TracedThread& h1 = first.adopt();
    done("helper-born");
    if (orphan) {
      // 2. H1 makes H2, which inherits H1's PTRACE_O_EXITKILL at birth: no moment exists at
      //    which its tracer's death would let it run. Then H1 is killed and reaped by the
      //    carrier, and H2 belongs to the nearest subreaper or init.
      user_regs_struct h1_regs{};
      h1.get_regs(h1_regs);
      pid_t h2 = inject_clone(target, h1, h1_regs, gadget, helper_flags(), PTRACE_O_EXITKILL);
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
    if (!stop_goes_unseen(target, tid)) continue;
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

}  // namespace snapdump::os
