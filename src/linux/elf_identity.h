// ELF identity of mapped modules: what a debugger matches a module on (the GNU build-id), read
// from the file on disk with the bounded reader of elf_reader.h, outside any stop. Nothing here
// takes memory from the heap: results go to `out`, working buffers to `scratch`
// (kCreateUseVmAllocations).
#pragma once

#include <sys/types.h>

#include <memory_resource>
#include <optional>
#include <span>
#include <string_view>

#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// The identity of the ELF file at `path`; nullopt when it is not ELF (ELF64 little-endian), is
// corrupt, or cannot be opened. load_address and image_size are left 0 (they depend on the
// mapping). build_id and soname are allocated from `out`.
std::optional<ElfIdentity> read_elf_identity(std::string_view path,
                                             std::pmr::memory_resource* out = std::pmr::get_default_resource(),
                                             std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// For every module of the process: finds the mapping of its ELF header (a file mapping at
// offset 0 whose file is ELF), sets its `elf` with load_address (the mapping start) and
// image_size (to the end of the last mapping of the same file), and marks all mappings of
// that file RegionType::image. Files are opened through /proc/PID/map_files (works for deleted
// files and other mount namespaces), falling back to /proc/PID/root/PATH. Identities are
// allocated from `out`; the call's own bookkeeping (a bounded amount) from `scratch`.
void attach_module_identities(pid_t pid, std::span<Region> regions,
                              std::pmr::memory_resource* out = std::pmr::get_default_resource(),
                              std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// The offset from the module's base of its dynamic symbol `name`, read from the file mapped at
// `module` (the region holding its ELF header, with `elf` set), opened as
// attach_module_identities opens it; nullopt when there is no such symbol. Its read buffers
// (a bounded amount) come from `scratch`.
std::optional<uint64_t> module_symbol_offset(pid_t pid, const Region& module, std::string_view name,
                                             std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

}  // namespace snapdump::os
