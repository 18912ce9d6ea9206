// Memory regions with unusual flags (shared, file backed, DONTFORK, WIPEONFORK, guard pages,
// huge pages), each filled with its own byte so a capture's copy can be checked.
#pragma once

#include <nlohmann/json.hpp>

namespace sdtarget {

nlohmann::json create_mappings();
// One page of a file mapped as three: {"start", "size", "readable": 4096}.
nlohmann::json create_truncated_mapping();
// `mib` MiB of private memory marked MADV_DONTFORK (as V8 marks its heap), every 8-byte word
// holding its own offset xor a tag: {"kind": "dontfork_large", "start", "size", "tag"}.
nlohmann::json create_large_dontfork(std::size_t mib);
// `count` 64 KiB regions marked MADV_DONTFORK, each filled with its own byte, one page of hole
// after each, as V8 scatters its heap. Region count/3 is a plain region instead (kind
// "scatter_plain") and region 2*count/3 an unreadable DONTFORK one ("scatter_none"): mapped
// memory that a madvise() over the others must not take in. The rest are "scatter_dontfork".
nlohmann::json create_scattered_dontfork(std::size_t count);
// `mib` MiB of private read-write memory of which only the page at "marker_offset" was ever
// written (16 bytes of "marker" text there), the rest never touched: what an ELF core leaves as
// holes. {"kind": "untouched", "start", "size", "marker_offset", "marker"}.
nlohmann::json create_untouched(std::size_t mib);

}  // namespace sdtarget
