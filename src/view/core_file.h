// The container of an x86-64 Linux ELF core, read without trusting it: the ELF header, the
// program headers (extended numbering understood), each PT_LOAD's extent and the part of its
// bytes the file really holds, and the notes of every PT_NOTE. What CoreView decodes the notes'
// payloads from.
//
// Why hand-rolled rather than libelf: libsnapdump does not link libelf (only the unwinder does,
// src/CMakeLists.txt), and a core needs little of it: one header, one table of fixed records and
// a walk over 4-aligned notes, each bounded here against the bytes the file has. libelf's own
// reader of a truncated core (elf_getdata past the end) fails the whole segment; this one keeps
// what is there and says what is missing.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace snapdump::view {

struct CoreLoad {
  uint64_t start = 0, end = 0;  // p_vaddr, p_vaddr + p_memsz
  uint32_t flags = 0;           // PF_R | PF_W | PF_X
  uint64_t offset = 0;          // p_offset
  uint64_t file_size = 0;       // p_filesz
  uint64_t in_file = 0;         // of p_filesz, the bytes the file holds (less when it is cut short)
};

struct CoreNote {
  std::string_view name;  // "CORE", "LINUX", ... (without its NUL)
  uint32_t type = 0;
  std::span<const uint8_t> desc;
};

struct CoreFile {
  std::vector<CoreLoad> loads;  // in address order, disjoint, none empty
  std::vector<CoreNote> notes;  // in file order; they point into the bytes parsed
  std::vector<std::string> problems;  // what was skipped or cut short, in words
};

// Parses `file`, which must outlive the result. Throws snapdump::Error(corrupt_input) with
// "WHAT is not an ELF core: ..." when the header is not that of an ELF64 little-endian ET_CORE,
// "WHAT is an ELF core of machine N, ..." for another machine than x86-64, or "WHAT: ..." when
// its program headers are unusable (a size that is not
// Elf64_Phdr's, or none inside the file); any other damage is a problem and parsing goes on.
CoreFile parse_core_file(std::span<const uint8_t> file, const std::string& what);

}  // namespace snapdump::view
