// What kind of dump a file is, by its first bytes, before a reader is chosen for it.
#pragma once

#include <string>

namespace snapdump::cli {

// True when `path` starts with an ELF header of type ET_CORE.
bool is_elf_core(const std::string& path);

}  // namespace snapdump::cli
