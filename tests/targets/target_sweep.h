// --sweep-mib M: M MiB of private anonymous memory, every page written before READY (so a VA
// clone shares all of it), then written again only on command: "sweep N [FROM]" writes one word
// into each of N pages from page FROM (0 if not given), in address order, from the main thread,
// and answers once done.
// That is the trail a sequential writer (a bump allocator, a ring buffer) leaves, at a place
// the test knows: where a dump that releases what it wrote should start (Snapshot::write_front).
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace sdtarget {

// Maps and fills the region; returns {"addr", "size"}.
nlohmann::json create_sweep(std::size_t mib);
// "sweep N [FROM]": {"ok", true, "end": the address after the last page written}.
nlohmann::json run_sweep(const std::string& args);

}  // namespace sdtarget
