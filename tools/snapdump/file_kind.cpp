#include "file_kind.h"

#include <elf.h>

#include <cstdio>
#include <cstring>

namespace snapdump::cli {

bool is_elf_core(const std::string& path) {
  Elf64_Ehdr header{};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  bool whole = std::fread(&header, sizeof header, 1, f) == 1;
  std::fclose(f);
  return whole && std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_type == ET_CORE;
}

}  // namespace snapdump::cli
