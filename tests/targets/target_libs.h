// Shared libraries: one loaded and kept (a capture must list it), one loaded and unloaded
// again (a capture must not).
#pragma once

#include <nlohmann/json.hpp>

namespace sdtarget {

nlohmann::json load_libraries();

}  // namespace sdtarget
