// Fields of /proc/PID/status text as a capture or a minidump's LinuxProcStatus stream keeps it.
#pragma once

#include <sys/types.h>

#include <string_view>

namespace snapdump::view {

// The value after "Key:" and its blanks ("" if the key is absent).
std::string_view status_field(std::string_view status, std::string_view key);
// The first number of a field's value (NSpgid lists one per pid namespace, the outermost
// first; Uid lists real, effective, saved and fs); 0 if none.
long first_number(std::string_view value);

}  // namespace snapdump::view
