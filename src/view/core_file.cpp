#include "view/core_file.h"

#include <elf.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/error.h"

namespace snapdump::view {
namespace {

// A corrupt count must not become a huge allocation: far more notes than any core has (four or
// five per thread, a few per process).
constexpr size_t kMaxNotes = size_t{1} << 20;
// And far more program headers than mappings a process can have (vm.max_map_count is 65530 by
// default; snapdump's cores may split one mapping in a few PT_LOADs).
constexpr uint64_t kMaxProgramHeaders = uint64_t{1} << 22;

template <class T>
bool load(std::span<const uint8_t> file, uint64_t offset, T& out) {
  if (offset > file.size() || sizeof(T) > file.size() - offset) return false;
  std::memcpy(&out, file.data() + offset, sizeof(T));
  return true;
}

uint64_t align4(uint64_t v) { return v > UINT64_MAX - 3 ? UINT64_MAX : (v + 3) & ~uint64_t{3}; }

const char* type_name(uint16_t type) {
  switch (type) {
    case ET_NONE: return "an ELF file of no type (ET_NONE)";
    case ET_REL: return "an object file (ET_REL)";
    case ET_EXEC: return "an executable (ET_EXEC)";
    case ET_DYN: return "a shared object or PIE executable (ET_DYN)";
    default: return "an ELF file of an unknown type";
  }
}

Elf64_Ehdr check_header(std::span<const uint8_t> file, const std::string& what) {
  auto refuse = [&](const std::string& why) { return Error(Errc::corrupt_input, fmt::format("{} is not an ELF core: {}", what, why)); };
  if (file.size() < SELFMAG || std::memcmp(file.data(), ELFMAG, SELFMAG) != 0) throw refuse("no ELF magic at its start");
  // The whole header before any of its bytes past the magic (the ASan tree caught a 4-byte file).
  Elf64_Ehdr eh;
  if (!load(file, 0, eh)) throw refuse(fmt::format("{} bytes, too small for the {}-byte ELF header", file.size(), sizeof eh));
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) throw refuse(fmt::format("ELF class {}, not ELFCLASS64", eh.e_ident[EI_CLASS]));
  if (eh.e_ident[EI_DATA] != ELFDATA2LSB) throw refuse(fmt::format("ELF data encoding {}, not little-endian", eh.e_ident[EI_DATA]));
  if (eh.e_type != ET_CORE) throw refuse(fmt::format("{} (e_type {})", type_name(eh.e_type), eh.e_type));
  if (eh.e_machine != EM_X86_64) {
    throw Error(Errc::corrupt_input,
                fmt::format("{} is an ELF core of machine {}, not x86-64 (EM_X86_64): only x86-64 cores are read", what, eh.e_machine));
  }
  return eh;
}

// e_phnum, or the section header 0's sh_info when it says PN_XNUM (more than 65534 headers).
uint64_t program_header_count(std::span<const uint8_t> file, const Elf64_Ehdr& eh, std::vector<std::string>& problems) {
  if (eh.e_phnum != PN_XNUM) return eh.e_phnum;
  Elf64_Shdr first;
  if (eh.e_shoff == 0 || !load(file, eh.e_shoff, first)) {
    problems.push_back(fmt::format("e_phnum is PN_XNUM but section header 0 (at {:#x}) is not in the file: "
                                   "only the first {} program headers are read",
                                   eh.e_shoff, PN_XNUM));
    return PN_XNUM;
  }
  return first.sh_info;
}

void read_notes(std::span<const uint8_t> file, const Elf64_Phdr& ph, CoreFile& out) {
  uint64_t begin = ph.p_offset, end = ph.p_offset;
  if (ph.p_offset <= file.size()) end = ph.p_offset + std::min<uint64_t>(ph.p_filesz, file.size() - ph.p_offset);
  if (end - begin < ph.p_filesz) {
    out.problems.push_back(fmt::format("truncated: the PT_NOTE at offset {:#x} has {} of its {} bytes in the file; the notes past the end are missing",
                                       ph.p_offset, end - begin, ph.p_filesz));
  }
  uint64_t at = begin;
  while (at < end) {
    Elf64_Nhdr nh;
    if (end - at < sizeof nh || !load(file, at, nh)) {
      out.problems.push_back(fmt::format("note header at offset {:#x} cut short ({} bytes left in the PT_NOTE)", at, end - at));
      return;
    }
    uint64_t name = at + sizeof nh;
    uint64_t desc = align4(name + nh.n_namesz);
    uint64_t next = align4(desc + nh.n_descsz);
    if (desc > end || nh.n_descsz > end - desc) {
      out.problems.push_back(fmt::format("note at offset {:#x} (type {:#x}, {} bytes) runs past its PT_NOTE's end at {:#x}: it and the rest are skipped",
                                         at, nh.n_type, nh.n_descsz, end));
      return;
    }
    if (out.notes.size() == kMaxNotes) {
      out.problems.push_back(fmt::format("more than {} notes: the rest are skipped", kMaxNotes));
      return;
    }
    std::string_view n(reinterpret_cast<const char*>(file.data() + name), nh.n_namesz);
    while (!n.empty() && n.back() == '\0') n.remove_suffix(1);
    out.notes.push_back({n, nh.n_type, file.subspan(desc, nh.n_descsz)});
    at = std::min(next, end);
  }
}

}  // namespace

CoreFile parse_core_file(std::span<const uint8_t> file, const std::string& what) {
  Elf64_Ehdr eh = check_header(file, what);
  CoreFile out;
  uint64_t count = program_header_count(file, eh, out.problems);
  if (count == 0) throw Error(Errc::corrupt_input, fmt::format("{}: an ELF core without program headers", what));
  if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
    throw Error(Errc::corrupt_input, fmt::format("{}: program header size {}, not Elf64_Phdr's {}", what, eh.e_phentsize, sizeof(Elf64_Phdr)));
  }
  uint64_t fit = eh.e_phoff <= file.size() ? (file.size() - eh.e_phoff) / sizeof(Elf64_Phdr) : 0;
  if (fit == 0) {
    throw Error(Errc::corrupt_input, fmt::format("{}: its program headers (at {:#x}) lie past its end ({} bytes)", what, eh.e_phoff, file.size()));
  }
  if (count > fit) {
    out.problems.push_back(fmt::format("truncated: {} program headers declared, {} in the file", count, fit));
    count = fit;
  }
  if (count > kMaxProgramHeaders) {
    out.problems.push_back(fmt::format("{} program headers: only the first {} are read", count, kMaxProgramHeaders));
    count = kMaxProgramHeaders;
  }
  size_t cut = 0;
  uint64_t missing = 0;
  for (uint64_t i = 0; i < count; ++i) {
    Elf64_Phdr ph;
    load(file, eh.e_phoff + i * sizeof ph, ph);  // inside: count was bounded above
    if (ph.p_type == PT_NOTE) {
      read_notes(file, ph, out);
      continue;
    }
    if (ph.p_type != PT_LOAD || ph.p_memsz == 0) continue;
    if (ph.p_vaddr > UINT64_MAX - ph.p_memsz || ph.p_filesz > ph.p_memsz) {
      out.problems.push_back(fmt::format("PT_LOAD {} at {:#x}: {} bytes in memory, {} in the file: impossible, skipped", i, ph.p_vaddr,
                                         ph.p_memsz, ph.p_filesz));
      continue;
    }
    CoreLoad load_{ph.p_vaddr, ph.p_vaddr + ph.p_memsz, ph.p_flags, ph.p_offset, ph.p_filesz, 0};
    if (ph.p_offset <= file.size()) load_.in_file = std::min<uint64_t>(ph.p_filesz, file.size() - ph.p_offset);
    if (load_.in_file < load_.file_size) ++cut, missing += load_.file_size - load_.in_file;
    out.loads.push_back(load_);
  }
  if (cut > 0) {
    out.problems.push_back(fmt::format("truncated: {} PT_LOADs' bytes ({} bytes in all) lie past the file's end at {} bytes: that memory is not held",
                                       cut, missing, file.size()));
  }
  std::stable_sort(out.loads.begin(), out.loads.end(), [](const CoreLoad& a, const CoreLoad& b) { return a.start < b.start; });
  std::vector<CoreLoad> disjoint;
  for (const CoreLoad& l : out.loads) {
    if (!disjoint.empty() && l.start < disjoint.back().end) {
      out.problems.push_back(fmt::format("PT_LOAD [{:#x}, {:#x}) overlaps the one at {:#x}: skipped", l.start, l.end, disjoint.back().start));
      continue;
    }
    disjoint.push_back(l);
  }
  out.loads = std::move(disjoint);
  return out;
}

}  // namespace snapdump::view
