// A file descriptor's basic and type-specific information as text: one "key: value" line per
// field, in the words /proc/PID/fdinfo uses where it has them. The minidump writer stores this
// as each handle's object information, and the CLI prints it.
#pragma once

#include <string>

#include "snapdump/snapshot_types.h"

namespace snapdump {

// Empty when the capture kept neither basic nor type-specific information for the handle.
std::string handle_details(const HandleEntry& handle);

}  // namespace snapdump
