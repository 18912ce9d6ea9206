// Looking up a dynamic symbol of an ELF file on disk, with libelf.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace snapdump::os {

// The offset of dynamic symbol `name` from the address where the file's first loadable segment
// is mapped (its module base); nullopt when the file is not ELF, has no such symbol, or cannot be
// opened. Only regular files are opened.
std::optional<uint64_t> dynamic_symbol_offset(const std::string& path, std::string_view name);

}  // namespace snapdump::os
