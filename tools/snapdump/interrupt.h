// SIGINT, SIGTERM and SIGHUP while `snapdump dump` runs. The first one stops the dump at its next
// cancel check (at most 64 MiB of memory later): the writer unwinds, the target is released
// (resumed, or its clone killed) and the unfinished file discarded, then snapdump dies of that
// same signal, so that a shell or supervisor sees why it ended. If the dump cannot unwind within
// kGraceSeconds (the capture does not take cancels; a stream's reader may have stopped reading)
// or a second signal comes, the handler ends the process itself: it removes the output's
// temporary name, if the output has one, and dies. The kernel then does what it does for a
// SIGKILLed snapdump: a target stopped by ptrace resumes when its tracer exits, the clone dies
// with it (PTRACE_O_EXITKILL), an O_TMPFILE file was never visible (docs/capture.md,
// safety_test's KillTest).
#pragma once

#include <signal.h>

#include <string>

namespace snapdump::cli {

class InterruptGuard {
 public:
  static constexpr unsigned kGraceSeconds = 3;

  // Installs the handlers (one guard at a time). Until target_touched(), a signal ends the
  // process at once: there is nothing to release yet, only a file to remove.
  InterruptGuard();
  ~InterruptGuard();  // restores the previous handlers
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // The name the handler unlinks before ending the process ("" for none; see
  // DumpOutput::temporary_name) and what its message says became of the destination. Copied:
  // the handler never touches the output object.
  void set_output(const char* temporary_name, const std::string& outcome);
  // From here on the first signal stops the dump cooperatively (the capture is about to begin).
  void target_touched();

  // The signal that interrupted the dump, or 0.
  static int signal_received() noexcept;

  // Prints "snapdump: interrupted by SIGx: OUTCOME" and dies of the signal (exit status
  // 128 + N for a shell). Called once the dump has unwound.
  [[noreturn]] void die(const std::string& outcome);

 private:
  struct sigaction old_[4] {};
};

}  // namespace snapdump::cli
