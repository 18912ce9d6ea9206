#include "view/mapped_elf.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace snapdump::view {
namespace {

// Bounds against a corrupt image: more program headers or note bytes than any linker writes.
constexpr uint16_t kMaxProgramHeaders = 256;
constexpr uint64_t kMaxNoteBytes = 64 * 1024;

template <class T>
bool read_at(const ProcessView& view, uint64_t address, T& out) {
  return view.read_memory(address, {reinterpret_cast<uint8_t*>(&out), sizeof out}) == sizeof out;
}

// NT_GNU_BUILD_ID among the notes of one PT_NOTE, each name and payload padded to `align`.
std::vector<uint8_t> build_id_in(const std::vector<uint8_t>& notes, uint64_t align) {
  size_t at = 0;
  while (notes.size() - at >= sizeof(Elf64_Nhdr)) {
    Elf64_Nhdr nh;
    std::memcpy(&nh, notes.data() + at, sizeof nh);
    uint64_t name = at + sizeof nh;
    uint64_t desc = (name + nh.n_namesz + align - 1) & ~(align - 1);
    if (desc > notes.size() || nh.n_descsz > notes.size() - desc) break;
    std::string_view n(reinterpret_cast<const char*>(notes.data() + name), nh.n_namesz);
    if (nh.n_type == NT_GNU_BUILD_ID && n == std::string_view("GNU", 4) && nh.n_descsz > 0) {
      return {notes.begin() + static_cast<ptrdiff_t>(desc), notes.begin() + static_cast<ptrdiff_t>(desc + nh.n_descsz)};
    }
    at = (desc + nh.n_descsz + align - 1) & ~(align - 1);
  }
  return {};
}

}  // namespace

std::vector<uint8_t> mapped_build_id(const ProcessView& view, uint64_t base) {
  Elf64_Ehdr eh;
  if (!read_at(view, base, eh) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > kMaxProgramHeaders || eh.e_phoff > UINT32_MAX) {
    return {};
  }
  std::vector<Elf64_Phdr> headers(eh.e_phnum);
  std::span<uint8_t> raw(reinterpret_cast<uint8_t*>(headers.data()), headers.size() * sizeof(Elf64_Phdr));
  if (view.read_memory(base + eh.e_phoff, raw) != raw.size()) return {};
  // The image is mapped at `base` less its first PT_LOAD's page: a non-PIE executable's first
  // p_vaddr is where it is, a shared object's is 0.
  uint64_t first = UINT64_MAX;
  for (const Elf64_Phdr& ph : headers) {
    if (ph.p_type == PT_LOAD) first = std::min(first, ph.p_vaddr & ~uint64_t{4095});
  }
  if (first == UINT64_MAX) return {};
  for (const Elf64_Phdr& ph : headers) {
    if (ph.p_type != PT_NOTE || ph.p_vaddr < first || ph.p_filesz == 0 || ph.p_filesz > kMaxNoteBytes) continue;
    std::vector<uint8_t> notes(ph.p_filesz);
    if (view.read_memory(base + (ph.p_vaddr - first), notes) != notes.size()) continue;
    std::vector<uint8_t> id = build_id_in(notes, ph.p_align == 8 ? 8 : 4);
    if (!id.empty()) return id;
  }
  return {};
}

}  // namespace snapdump::view
