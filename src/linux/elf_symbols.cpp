#include "linux/elf_symbols.h"

#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <limits>

namespace snapdump::os {

std::optional<uint64_t> dynamic_symbol_offset(const std::string& path, std::string_view name) {
  if (::elf_version(EV_CURRENT) == EV_NONE) return std::nullopt;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  Elf* elf = ::elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  std::optional<uint64_t> value;
  uint64_t lowest_load = std::numeric_limits<uint64_t>::max();
  size_t phnum = 0;
  if (elf != nullptr && ::elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr ph;
      if (::gelf_getphdr(elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD) {
        lowest_load = std::min<uint64_t>(lowest_load, ph.p_vaddr & ~uint64_t{0xfff});
      }
    }
    for (Elf_Scn* scn = ::elf_nextscn(elf, nullptr); scn != nullptr && !value; scn = ::elf_nextscn(elf, scn)) {
      GElf_Shdr sh;
      if (::gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_DYNSYM || sh.sh_entsize == 0) continue;
      Elf_Data* data = ::elf_getdata(scn, nullptr);
      if (data == nullptr) continue;
      size_t count = sh.sh_size / sh.sh_entsize;
      for (size_t i = 0; i < count; ++i) {
        GElf_Sym sym;
        if (::gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || sym.st_shndx == SHN_UNDEF) continue;
        const char* symbol = ::elf_strptr(elf, sh.sh_link, sym.st_name);
        if (symbol != nullptr && name == symbol) {
          value = sym.st_value;
          break;
        }
      }
    }
  }
  if (elf != nullptr) ::elf_end(elf);
  ::close(fd);
  if (!value || lowest_load == std::numeric_limits<uint64_t>::max() || *value < lowest_load) return std::nullopt;
  return *value - lowest_load;
}

}  // namespace snapdump::os
