// The bounded ELF64 reader: every record is fetched through a Window that checks it lies inside
// the image, so nothing here indexes memory with a number taken from the file.
#include "linux/elf_reader.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace snapdump::os::elf {
namespace {

// More headers than e_phnum/e_shnum can hold is only possible through the extended counts; no
// real file needs them, and the cap bounds every loop over a table.
constexpr uint64_t kMaxHeaders = 65535;
// Build-ids are 16 (MD5/UUID) to 20 (SHA-1) bytes; a longer note is not one a debugger uses.
constexpr uint32_t kMaxBuildId = 512;
// Names longer than this are not names anyone gave a library.
constexpr uint64_t kMaxString = 4096;

uint64_t align_up(uint64_t value, uint64_t align) { return (value + align - 1) & ~(align - 1); }

}  // namespace

bool ElfSource::read(uint64_t offset, void* out, size_t length) const {
  if (!contains(offset, length)) return false;
  if (!bytes_.empty()) {
    std::memcpy(out, bytes_.data() + offset, length);
    return true;
  }
  auto* to = static_cast<uint8_t*>(out);
  size_t done = 0;
  while (done < length) {
    ssize_t got = ::pread(fd_, to + done, length - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;  // the file shrank since its size was taken
    done += static_cast<size_t>(got);
  }
  return true;
}

const uint8_t* Window::get(uint64_t offset, size_t length) {
  if (!source_.contains(offset, length)) return nullptr;
  if (const uint8_t* bytes = source_.direct(offset, length)) return bytes;
  if (length > buffer_.size()) return nullptr;
  if (offset >= base_ && offset - base_ <= filled_ && length <= filled_ - (offset - base_)) {
    return buffer_.data() + (offset - base_);
  }
  // Refill from `offset`, as much as the buffer and the source allow.
  size_t fill = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), source_.size() - offset));
  filled_ = 0;
  if (!source_.read(offset, buffer_.data(), fill)) return nullptr;
  base_ = offset;
  filled_ = fill;
  return buffer_.data();
}

template <class T>
bool Window::get_as(uint64_t offset, T& out) {
  const uint8_t* bytes = get(offset, sizeof(T));
  if (bytes == nullptr) return false;
  std::memcpy(&out, bytes, sizeof(T));
  return true;
}

std::optional<ElfReader> ElfReader::open(const ElfSource& source, std::span<uint8_t> window) {
  ElfReader reader(source, window);
  Elf64_Ehdr& eh = reader.ehdr_;
  if (!reader.window_.get_as(0, eh)) return std::nullopt;
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_ident[EI_DATA] != ELFDATA2LSB) {
    return std::nullopt;
  }
  // Section header 0 holds the real counts when they overflow the ELF header's 16-bit fields.
  uint64_t shnum = eh.e_shnum;
  uint64_t phnum = eh.e_phnum;
  if (eh.e_shoff != 0) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr)) return std::nullopt;
    Elf64_Shdr first{};
    if (!reader.window_.get_as(eh.e_shoff, first)) return std::nullopt;
    if (shnum == 0) shnum = first.sh_size;
    if (phnum == PN_XNUM) phnum = first.sh_info;
  } else {
    shnum = 0;
  }
  if (phnum != 0 && eh.e_phentsize != sizeof(Elf64_Phdr)) return std::nullopt;
  if (phnum > kMaxHeaders || shnum > kMaxHeaders) return std::nullopt;
  // Counts are capped above, so the products cannot overflow.
  if (phnum != 0 && !source.contains(eh.e_phoff, phnum * sizeof(Elf64_Phdr))) return std::nullopt;
  if (shnum != 0 && !source.contains(eh.e_shoff, shnum * sizeof(Elf64_Shdr))) return std::nullopt;
  reader.phnum_ = static_cast<size_t>(phnum);
  reader.shnum_ = static_cast<size_t>(shnum);
  return reader;
}

std::optional<Elf64_Phdr> ElfReader::program_header(size_t index) {
  Elf64_Phdr ph{};
  if (index >= phnum_ || !window_.get_as(ehdr_.e_phoff + index * sizeof(Elf64_Phdr), ph)) return std::nullopt;
  return ph;
}

std::optional<Elf64_Shdr> ElfReader::section_header(size_t index) {
  Elf64_Shdr sh{};
  if (index >= shnum_ || !window_.get_as(ehdr_.e_shoff + index * sizeof(Elf64_Shdr), sh)) return std::nullopt;
  return sh;
}

std::optional<uint64_t> ElfReader::file_offset_of(uint64_t address, uint64_t length) {
  for (size_t i = 0; i < phnum_; ++i) {
    auto ph = program_header(i);
    if (!ph || ph->p_type != PT_LOAD || address < ph->p_vaddr) continue;
    uint64_t into = address - ph->p_vaddr;
    if (into < ph->p_filesz && length <= ph->p_filesz - into && ph->p_offset <= UINT64_MAX - into) {
      return ph->p_offset + into;
    }
  }
  return std::nullopt;
}

// Notes are (namesz, descsz, type) words, then the name and the descriptor, each padded to the
// note alignment (8 for segments and sections aligned so, as readelf reads them, else 4).
bool ElfReader::build_id_from_notes(uint64_t offset, uint64_t size, uint64_t align,
                                    std::pmr::vector<uint8_t>& out) {
  if (!source_->contains(offset, size)) return false;
  uint64_t at = 0;
  while (size - at >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr note{};
    if (!window_.get_as(offset + at, note)) return false;
    uint64_t name = at + sizeof note;
    uint64_t desc = name + align_up(note.n_namesz, align);
    // The words are 32-bit, so these sums stay far from overflow; a note that does not fit the
    // block ends the scan, as it did with gelf_getnote.
    if (desc > size || note.n_descsz > size - desc) return false;
    if (note.n_type == NT_GNU_BUILD_ID && note.n_namesz == 4 && note.n_descsz != 0 &&
        note.n_descsz <= kMaxBuildId) {
      const uint8_t* owner = window_.get(offset + name, 4);
      if (owner != nullptr && std::memcmp(owner, "GNU", 4) == 0) {
        const uint8_t* bytes = window_.get(offset + desc, note.n_descsz);
        if (bytes == nullptr) return false;
        out.assign(bytes, bytes + note.n_descsz);
        return true;
      }
    }
    at = desc + align_up(note.n_descsz, align);
    if (at > size) break;
  }
  return false;
}

bool ElfReader::build_id(std::pmr::vector<uint8_t>& out) {
  for (size_t i = 0; i < phnum_; ++i) {
    auto ph = program_header(i);
    if (ph && ph->p_type == PT_NOTE &&
        build_id_from_notes(ph->p_offset, ph->p_filesz, ph->p_align == 8 ? 8 : 4, out)) {
      return true;
    }
  }
  // Files whose program headers lack the note (some linkers, relocatable objects).
  for (size_t i = 0; i < shnum_; ++i) {
    auto sh = section_header(i);
    if (sh && sh->sh_type == SHT_NOTE &&
        build_id_from_notes(sh->sh_offset, sh->sh_size, sh->sh_addralign == 8 ? 8 : 4, out)) {
      return true;
    }
  }
  return false;
}

bool ElfReader::string_at(uint64_t table, uint64_t table_size, uint64_t index, std::pmr::string& out) {
  if (index >= table_size || !source_->contains(table, table_size)) return false;
  size_t span = static_cast<size_t>(std::min({table_size - index, kMaxString, uint64_t{window_.capacity()}}));
  const uint8_t* begin = window_.get(table + index, span);
  if (begin == nullptr) return false;
  const void* end = std::memchr(begin, '\0', span);
  if (end == nullptr) return false;
  out.assign(reinterpret_cast<const char*>(begin), reinterpret_cast<const char*>(end));
  return true;
}

bool ElfReader::soname_from_sections(std::pmr::string& out) {
  for (size_t i = 0; i < shnum_; ++i) {
    auto sh = section_header(i);
    if (!sh || sh->sh_type != SHT_DYNAMIC || sh->sh_entsize == 0 ||
        !source_->contains(sh->sh_offset, sh->sh_size)) {
      continue;
    }
    uint64_t count = std::min(sh->sh_size / sh->sh_entsize, sh->sh_size / sizeof(Elf64_Dyn));
    for (uint64_t j = 0; j < count; ++j) {
      Elf64_Dyn dyn{};
      if (!window_.get_as(sh->sh_offset + j * sizeof dyn, dyn) || dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag != DT_SONAME) continue;
      // The first DT_SONAME decides, readable or not.
      auto strtab = section_header(sh->sh_link);
      if (strtab && strtab->sh_type == SHT_STRTAB &&
          string_at(strtab->sh_offset, strtab->sh_size, dyn.d_un.d_val, out)) {
        return true;
      }
      out.clear();
      return false;
    }
  }
  return false;
}

// Files stripped of section headers still have PT_DYNAMIC, whose DT_STRTAB is an address.
bool ElfReader::soname_from_segments(std::pmr::string& out) {
  for (size_t i = 0; i < phnum_; ++i) {
    auto ph = program_header(i);
    if (!ph || ph->p_type != PT_DYNAMIC) continue;
    if (!source_->contains(ph->p_offset, ph->p_filesz)) return false;
    uint64_t strtab = 0, strsz = 0, soname = 0;
    bool has_soname = false;
    for (uint64_t j = 0; j < ph->p_filesz / sizeof(Elf64_Dyn); ++j) {
      Elf64_Dyn dyn{};
      if (!window_.get_as(ph->p_offset + j * sizeof dyn, dyn) || dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag == DT_STRTAB) strtab = dyn.d_un.d_ptr;
      if (dyn.d_tag == DT_STRSZ) strsz = dyn.d_un.d_val;
      if (dyn.d_tag == DT_SONAME) {
        soname = dyn.d_un.d_val;
        has_soname = true;
      }
    }
    if (!has_soname || soname >= strsz) return false;
    auto offset = file_offset_of(strtab, strsz);
    return offset && string_at(*offset, strsz, soname, out);
  }
  return false;
}

bool ElfReader::soname(std::pmr::string& out) {
  if (soname_from_sections(out) && !out.empty()) return true;
  out.clear();
  if (soname_from_segments(out)) return true;
  out.clear();
  return false;
}

std::optional<uint64_t> ElfReader::symbol_offset(std::string_view name, std::span<uint8_t> strings) {
  std::optional<uint64_t> lowest_load;
  for (size_t i = 0; i < phnum_; ++i) {
    auto ph = program_header(i);
    if (ph && ph->p_type == PT_LOAD) {
      uint64_t page = ph->p_vaddr & ~uint64_t{0xfff};
      lowest_load = lowest_load ? std::min(*lowest_load, page) : page;
    }
  }
  Window names(*source_, strings);
  if (!lowest_load || name.size() >= names.capacity()) return std::nullopt;
  for (size_t i = 0; i < shnum_; ++i) {
    auto sh = section_header(i);
    if (!sh || sh->sh_type != SHT_DYNSYM || sh->sh_entsize == 0 ||
        !source_->contains(sh->sh_offset, sh->sh_size)) {
      continue;
    }
    auto strtab = section_header(sh->sh_link);
    if (!strtab || strtab->sh_type != SHT_STRTAB || !source_->contains(strtab->sh_offset, strtab->sh_size)) {
      continue;
    }
    uint64_t count = std::min(sh->sh_size / sh->sh_entsize, sh->sh_size / sizeof(Elf64_Sym));
    for (uint64_t j = 0; j < count; ++j) {
      Elf64_Sym sym{};
      if (!window_.get_as(sh->sh_offset + j * sizeof sym, sym)) break;
      if (sym.st_shndx == SHN_UNDEF || sym.st_value < *lowest_load) continue;
      // The name and its terminating NUL must both lie inside the string table.
      if (sym.st_name >= strtab->sh_size || name.size() >= strtab->sh_size - sym.st_name) continue;
      const uint8_t* text = names.get(strtab->sh_offset + sym.st_name, name.size() + 1);
      if (text != nullptr && text[name.size()] == '\0' && std::memcmp(text, name.data(), name.size()) == 0) {
        return sym.st_value - *lowest_load;
      }
    }
  }
  return std::nullopt;
}

}  // namespace snapdump::os::elf
