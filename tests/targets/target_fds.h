// One open fd of every kind a capture has to describe, each with the values a test should
// find when it inspects it.
#pragma once

#include <nlohmann/json.hpp>

namespace sdtarget {

// Must run before any thread starts: it forks the child the pidfd refers to.
// Returns the fd entries for the READY report.
nlohmann::json create_fds();

}  // namespace sdtarget
