// Printing a snapshot for people (text) and for scripts (JSON).
#pragma once

#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "snapdump/snapshot.h"

namespace snapdump::cli {

nlohmann::json snapshot_to_json(const Snapshot& snapshot);
void print_snapshot(std::FILE* out, const Snapshot& snapshot);
// Prints "key: value" lines (a handle's details) indented under the handle's line.
void print_details(std::FILE* out, const std::string& details);

}  // namespace snapdump::cli
