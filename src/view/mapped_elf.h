// What an ELF image mapped in a process says about itself, read through a ProcessView's memory:
// its NT_GNU_BUILD_ID, found through its program headers as a loader finds it. A core holds the
// first page of every mapped ELF file (the kernel's coredump_filter bit 4, snapdump's and gdb's
// cores alike), and a linker puts the program headers and the build-id note there, so this works
// on a core that holds nothing else of the file.
#pragma once

#include <cstdint>
#include <vector>

#include "view/process_view.h"

namespace snapdump::view {

// The build-id of the ELF image whose header is at `base`; empty when the view does not hold
// its header, program headers or note, or when they are not an ELF64 image's.
std::vector<uint8_t> mapped_build_id(const ProcessView& view, uint64_t base);

}  // namespace snapdump::view
