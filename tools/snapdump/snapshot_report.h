// Printing a snapshot for people (text) and for scripts (JSON).
#pragma once

#include <cstdio>

#include <nlohmann/json.hpp>

#include "snapdump/snapshot.h"

namespace snapdump::cli {

nlohmann::json snapshot_to_json(const Snapshot& snapshot);
void print_snapshot(std::FILE* out, const Snapshot& snapshot);

}  // namespace snapdump::cli
