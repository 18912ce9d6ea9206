// The heartbeat thread measures how long the target was kept from running: a capture that
// pauses the process shows up as one long gap between two 1 ms ticks.
#pragma once

#include <cstdint>

namespace sdtarget {

std::uint64_t heartbeat_max_stall_ns();
std::uint64_t heartbeat_iterations();
void reset_heartbeat();

}  // namespace sdtarget
