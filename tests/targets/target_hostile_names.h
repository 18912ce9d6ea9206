// Names that are bytes, not text (--hostile-names): threads, open files and a socket whose
// names are not UTF-8 or hold terminal escape sequences, for the tests that prove every printer
// keeps such names intact and never lets them reach a terminal raw.
#pragma once

#include <nlohmann/json.hpp>

extern "C" void* park_with_hostile_name(void* name);

namespace sdtarget {

// The names, exactly as the kernel will report them.
inline constexpr const char* kHostileThreadNames[] = {
    "\xff\xfe" "bad",            // not UTF-8
    "\x1b[31mred\x1b[0m",        // an SGR sequence: would colour the terminal
};

// Starts the threads, opens the files and binds the socket. The READY report gets them with
// every name as lowercase hex ("*_hex"), since the report itself must stay valid JSON.
nlohmann::json create_hostile_names();

}  // namespace sdtarget
