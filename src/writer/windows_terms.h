// Linux facts in the terms a minidump uses, shared by every minidump writer (the capture's and
// the one over a ProcessView): a mapping's protection as PAGE_* and a build-id as the CodeView
// record Breakpad, LLDB and rust-minidump read ('BpEL' then the build-id bytes).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace snapdump::writer {

// PROT_* of a mapping as a PAGE_* value. A private writable mapping of a file is copy-on-write:
// Windows calls that WRITECOPY.
uint32_t page_protection(uint32_t prot, bool shared, std::string_view path);

// The module's CodeView record for `build_id`; empty when there is none (no record is better
// than an identifier made up).
std::vector<uint8_t> elf_cv_record(std::span<const uint8_t> build_id);

}  // namespace snapdump::writer
