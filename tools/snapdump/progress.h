// A progress bar for `snapdump dump`, drawn on stderr when it is a terminal and the dump has
// taken longer than about a second; nothing at all otherwise (scripts see only the result).
// It rides on the Vm read callbacks, which see every byte the writer reads from the snapshot.
#pragma once

#include <chrono>
#include <cstdint>

#include "snapdump/dump_callbacks.h"

namespace snapdump::cli {

class ProgressBar final : public DumpCallbacks {
 public:
  // `total`: the bytes the dump is expected to read, 0 if unknown (then only a count is shown).
  // SNAPDUMP_PROGRESS_AFTER_MS overrides the one-second delay (the tests draw at once).
  ProgressBar(uint64_t total, bool enabled);
  ~ProgressBar() override;

  // Erases the bar, so the result line that follows starts clean.
  void finish();

  bool vm_start() override { return enabled_; }
  // Stops the dump once SIGINT, SIGTERM or SIGHUP came (interrupt.h).
  CancelAnswer cancel() override;
  VmReadAnswer vm_post_read(uint64_t address, std::span<uint8_t> buffer, size_t completed, int error) override;

 private:
  void draw();

  uint64_t total_;
  uint64_t done_ = 0;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::chrono::milliseconds delay_{1000};
};

}  // namespace snapdump::cli
