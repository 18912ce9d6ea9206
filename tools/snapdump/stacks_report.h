// How `snapdump stacks` and `snapdump inspect --stacks` print every thread's backtrace: text for
// people (one line per frame, gdb's order: innermost first) and JSON for scripts. Names follow
// name_escape.h's rules in both.
#pragma once

#include <cstdio>
#include <optional>

#include <nlohmann/json.hpp>

#include "unwind/stack_trace.h"

namespace snapdump::cli {

// `what` names the source in the heading ("process 1234 (name)", "dump core.1234").
// `pause_ns`: how long a live target was stopped, when there was one.
void print_stacks(std::FILE* out, const unwind::Stacks& stacks, const std::string& what,
                  std::optional<uint64_t> pause_ns);
nlohmann::json stacks_to_json(const unwind::Stacks& stacks, std::optional<uint64_t> pause_ns);

}  // namespace snapdump::cli
