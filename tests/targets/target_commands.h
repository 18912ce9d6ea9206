// The line protocol on stdin: one command per line, one JSON line back per command.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace sdtarget {

// Answers every command except "exit", which the caller handles. Unknown commands get
// {"error": ...} rather than ending the target, so a test typo does not look like a crash.
nlohmann::json run_command(const std::string& command);

// The "children" answer on its own, for reuse: every child of any of our threads.
nlohmann::json children_json();

}  // namespace sdtarget
