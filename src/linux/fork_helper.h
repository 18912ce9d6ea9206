// The helper a VA clone is forked from (steps 1 and 2 of va_clone.h), made before the target's
// pause through one of its threads, or in the pause when no thread can carry it unharmed.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <chrono>
#include <cstdint>

#include "linux/ptrace_thread.h"

namespace snapdump::os {

class VaClone;

// The helper the VA clone is forked from: H2 in orphan mode, H1 otherwise (steps 1 and 2 of va_clone.h).
// It shares the target's memory, files and fs and never runs (stopped, killed if its tracer dies).
// Made before the target's pause when a thread can carry the calls without harm
// (make_before_pause): then only that thread is stopped while the helpers are made, about a
// millisecond, instead of every thread; the pause then forks from a helper that is ready.
class ForkHelper {
 public:
  using StepHook = void (*)(void* context, const char* step);

  // Makes the helper through `carrier`, a stopped thread of `target` whose registers are `saved`.
  // `step` is told "helper-born", "second-helper-born", "helper-reaped". On failure everything
  // made is killed and reaped through the carrier before the Error leaves.
  static ForkHelper make(pid_t target, TracedThread& carrier, const user_regs_struct& saved, uint64_t gadget,
                         bool orphan, StepHook step = nullptr, void* context = nullptr);

  // The same while the target runs: stops one thread for the calls and lets it go. Only a thread
  // whose call a stop does not turn into EINTR is used (the leader last), so no thread sees more
  // than the pause itself shows it. Returns an empty helper (ready() false)
  // when no thread qualifies: the pause then makes it itself. `step` is also told
  // "helper-carrier-stopped".
  static ForkHelper make_before_pause(pid_t target, uint64_t gadget, bool orphan, std::chrono::milliseconds stop_timeout,
                                      StepHook step = nullptr, void* context = nullptr);

  ForkHelper() : helper_(0) {}
  ForkHelper(ForkHelper&& other) noexcept;
  ForkHelper& operator=(ForkHelper&& other) noexcept;
  ForkHelper(const ForkHelper&) = delete;
  ForkHelper& operator=(const ForkHelper&) = delete;
  // Kills the helper; one that is the target's child is reaped there through a brief stop of one
  // of its threads. Never call while the pause holds the target's threads.
  ~ForkHelper();

  bool ready() const { return helper_.seized(); }
  pid_t pid() const { return helper_.tid(); }
  // Whether the helper still shares the target's memory (kcmp KCMP_VM): not after the target
  // ran a new program (execve), whose image the helper does not have.
  bool shares_memory() const;
  // How long a thread of the target was stopped to make the helper before the pause (0 when the
  // pause made it).
  uint64_t carrier_stop_ns() const { return carrier_stop_ns_; }
  pid_t carrier_tid() const { return carrier_tid_; }

 private:
  friend class VaClone;
  ForkHelper(pid_t target, uint64_t gadget) : target_(target), gadget_(gadget), helper_(0) {}
  void reset() noexcept;

  pid_t target_ = 0;
  uint64_t gadget_ = 0;
  TracedThread helper_;
  bool target_child_ = false;  // the target reaps it: it becomes the clone's parent
  uint64_t carrier_stop_ns_ = 0;
  pid_t carrier_tid_ = 0;
};

}  // namespace snapdump::os
