// Names of the PSS capture flags, as the CLI accepts them: "VaClone", "PSS_CAPTURE_VA_CLONE",
// "va-clone" all mean 0x1.
#pragma once

#include <string>
#include <string_view>

#include "snapdump/snapshot_types.h"

namespace snapdump::cli {

// Parses a comma-separated list of flag names; throws std::invalid_argument naming a bad one.
CaptureFlags parse_capture_flags(std::string_view list);
// Every flag name, for --help.
std::string capture_flag_names();

}  // namespace snapdump::cli
