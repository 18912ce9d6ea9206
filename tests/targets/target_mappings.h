// Memory regions with unusual flags (shared, file backed, DONTFORK, WIPEONFORK, guard pages,
// huge pages), each filled with its own byte so a capture's copy can be checked.
#pragma once

#include <nlohmann/json.hpp>

namespace sdtarget {

nlohmann::json create_mappings();

}  // namespace sdtarget
