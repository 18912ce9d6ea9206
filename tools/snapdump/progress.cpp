#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "interrupt.h"

namespace snapdump::cli {

ProgressBar::ProgressBar(uint64_t total, bool enabled)
    : total_(total), enabled_(enabled && isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  if (const char* after = std::getenv("SNAPDUMP_PROGRESS_AFTER_MS")) delay_ = std::chrono::milliseconds(std::atoi(after));
}

ProgressBar::~ProgressBar() { finish(); }

CancelAnswer ProgressBar::cancel() { return {true, InterruptGuard::signal_received() != 0}; }

VmReadAnswer ProgressBar::vm_post_read(uint64_t, std::span<uint8_t>, size_t completed, int error) {
  done_ += completed;
  auto now = std::chrono::steady_clock::now();
  // Ten redraws a second at most: a terminal is slow next to a 4 MiB read.
  if (now - start_ >= delay_ && (!drawn_ || now - last_draw_ >= std::chrono::milliseconds(100))) {
    last_draw_ = now;
    draw();
  }
  return {error, completed};
}

void ProgressBar::draw() {
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double mib = done_ / 1048576.0;
  std::string line;
  if (total_ > 0) {
    double fraction = std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_));
    constexpr int kWidth = 30;
    int filled = static_cast<int>(fraction * kWidth);
    line = fmt::format("\r[{}{}] {:3.0f}%  {:.0f} / {:.0f} MiB  {:.1f} s ", std::string(filled, '#'),
                       std::string(kWidth - filled, ' '), fraction * 100, mib, total_ / 1048576.0, seconds);
  } else {
    line = fmt::format("\r{:.0f} MiB read  {:.1f} s ", mib, seconds);
  }
  (void)!write(STDERR_FILENO, line.data(), line.size());
  drawn_ = true;
}

void ProgressBar::finish() {
  if (!drawn_) return;
  drawn_ = false;
  static constexpr char kClear[] = "\r\033[K";
  (void)!write(STDERR_FILENO, kClear, sizeof kClear - 1);
}

}  // namespace snapdump::cli
