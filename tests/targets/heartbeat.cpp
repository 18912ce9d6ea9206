#include "heartbeat.h"

#include <atomic>
#include <cerrno>
#include <ctime>
#include <sys/prctl.h>

#include "park_functions.h"
#include "thread_registry.h"

namespace sdtarget {
namespace {

constexpr std::int64_t kTickNs = 1'000'000;
std::atomic<std::uint64_t> g_max_stall_ns{0};
std::atomic<std::uint64_t> g_iterations{0};

std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void record_gap(std::int64_t gap_ns) {
  if (gap_ns <= kTickNs) return;
  auto stall = static_cast<std::uint64_t>(gap_ns - kTickNs);
  std::uint64_t seen = g_max_stall_ns.load();
  while (stall > seen && !g_max_stall_ns.compare_exchange_weak(seen, stall)) {
  }
}

}  // namespace

std::uint64_t heartbeat_max_stall_ns() { return g_max_stall_ns.load(); }
std::uint64_t heartbeat_iterations() { return g_iterations.load(); }

void reset_heartbeat() {
  g_max_stall_ns.store(0);
  g_iterations.store(0);
}

}  // namespace sdtarget

extern "C" __attribute__((noinline, used)) void* heartbeat_loop(void* argument) {
  auto& slot = *static_cast<sdtarget::ThreadSlot*>(argument);
  sdtarget::announce_thread(slot);
  // The default 50 us timer slack would be noise on top of every 1 ms tick.
  prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  slot.parked.store(1);
  std::int64_t previous = sdtarget::monotonic_ns();
  for (;;) {
    timespec tick{0, sdtarget::kTickNs};
    // clock_nanosleep returns the error number instead of setting errno.
    if (int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &tick, nullptr); rc != 0)
      sdtarget::count_result(slot, rc);
    std::int64_t now = sdtarget::monotonic_ns();
    sdtarget::record_gap(now - previous);
    previous = now;
    sdtarget::g_iterations.fetch_add(1);
  }
  return nullptr;
}
