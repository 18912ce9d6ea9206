// Printing what a minidump holds, for people: `snapdump inspect` and the demo.
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "snapdump/reader.h"

namespace snapdump::cli {

void print_dump(std::FILE* out, const reader::Minidump& dump);

// The same as JSON for scripts: {"streams", "system", "process", "threads", "modules",
// "memory", "memory_info", "handles", "problems"}.
nlohmann::json dump_to_json(const reader::Minidump& dump);

// One stream by name ("ThreadList", "LinuxMaps", ...): text streams as their text, the
// streams dump_to_json knows as their JSON section, any other as a hex dump. Throws
// std::invalid_argument for a name that is not in the dump.
void print_stream(std::FILE* out, const reader::Minidump& dump, const std::string& name, bool json);

}  // namespace snapdump::cli
