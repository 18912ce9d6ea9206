// ELF identity of mapped modules: what a debugger matches a module on (the GNU build-id), read
// from the file on disk with libelf, outside any stop.
#pragma once

#include <sys/types.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// The identity of the ELF file at `path`; nullopt when it is not ELF or cannot be opened.
// load_address and image_size are left 0 (they depend on the mapping).
std::optional<ElfIdentity> read_elf_identity(const std::string& path);

// For every module of the process: finds the mapping of its ELF header (a file mapping at
// offset 0 whose file is ELF), sets its `elf` with load_address (the mapping start) and
// image_size (to the end of the last mapping of the same file), and marks all mappings of
// that file RegionType::image. Files are opened through /proc/PID/map_files (works for deleted
// files and other mount namespaces), falling back to /proc/PID/root/PATH.
void attach_module_identities(pid_t pid, std::span<Region> regions);

// The offset from the module's base of its dynamic symbol `name`, read from the file mapped at
// `module` (the region holding its ELF header, with `elf` set), opened as
// attach_module_identities opens it; nullopt when there is no such symbol.
std::optional<uint64_t> module_symbol_offset(pid_t pid, const Region& module, std::string_view name);

}  // namespace snapdump::os
