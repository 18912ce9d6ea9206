// The dynamic linker's list of loaded objects, rebuilt for a core made of a minidump that does
// not hold it. gdb (solib-svr4) finds shared libraries through the DT_DEBUG entry of the main
// program's dynamic section, which points at r_debug and its link_map list, all read from the
// process's memory: a small minidump holds none of that, but Breakpad's LinuxDsoDebug stream
// (snapdump and Breakpad write it) carries the list and the dynamic section. As Breakpad's
// minidump-2-core does, this lays out an r_debug, one link_map per object and their names in a
// page range the process did not use, and gives the dynamic section back with DT_DEBUG pointing
// there. Only the public part of struct link_map is written (l_addr, l_name, l_ld, l_next,
// l_prev): all a reader of r_debug may rely on.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "snapdump/reader.h"
#include "view/process_view.h"

namespace snapdump::view {

struct SyntheticBytes {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

struct RebuiltLinkMap {
  SyntheticBytes dynamic;   // the main program's dynamic section, DT_DEBUG pointing at `list`
  SyntheticBytes list;      // r_debug, the link_maps and their names, in a range of its own
  Mapping list_mapping;     // the mapping that range becomes in the core (read-only, anonymous)
};

// nullopt when the stream has no objects, no dynamic section or no DT_DEBUG entry, or when no
// free page range below 2^47 fits the list. `mappings` in address order.
std::optional<RebuiltLinkMap> rebuild_link_map(const reader::DsoDebugView& debug, std::span<const Mapping> mappings);

}  // namespace snapdump::view
