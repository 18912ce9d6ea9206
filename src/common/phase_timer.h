// Clocks and the per-phase counters of PerformanceCounters (kCreateMeasurePerformance). The
// tracer process and the library read the same CLOCK_MONOTONIC and TSC, so a time one of them
// takes is meaningful to the other.
#pragma once

#include <time.h>
#include <x86intrin.h>

#include <cstdint>

#include "snapdump/snapshot_types.h"

namespace snapdump {

inline uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

inline uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Adds the wall time and cycles of its own lifetime to a PhaseCounter.
class PhaseTimer {
 public:
  explicit PhaseTimer(PhaseCounter& c) : c_(c), ns_(monotonic_ns()), tsc_(__rdtsc()) {}
  ~PhaseTimer() {
    c_.wall_ns += monotonic_ns() - ns_;
    c_.cycles += __rdtsc() - tsc_;
  }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  PhaseCounter& c_;
  uint64_t ns_, tsc_;
};

}  // namespace snapdump
