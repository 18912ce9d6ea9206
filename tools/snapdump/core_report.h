// Printing what an ELF core holds, for people and scripts: `snapdump inspect CORE`. A summary
// from the core's ProcessView (view::CoreView), not a dump of its notes (eu-readelf -n does that).
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "view/core_view.h"

namespace snapdump::cli {

void print_core(std::FILE* out, const view::CoreView& core);

// The same as JSON: {"process", "signal" (null when none), "threads", "mappings", "modules",
// "gaps", "problems"}.
nlohmann::json core_to_json(const view::CoreView& core);

}  // namespace snapdump::cli
