// Module identities (GNU build-id, soname) read with libelf from the mapped files, and from the
// target's memory for the vDSO, which has no file.
#include "linux/elf_identity.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <tuple>

#include <fmt/core.h>

namespace snapdump::os {
namespace {

bool libelf_ready() {
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = ::elf_version(EV_CURRENT) != EV_NONE; });
  return ready;
}

struct ElfCloser {
  Elf* elf;
  ~ElfCloser() {
    if (elf != nullptr) ::elf_end(elf);
  }
};

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Scans a block of notes for NT_GNU_BUILD_ID owned by "GNU".
bool build_id_from_notes(Elf_Data* data, std::vector<uint8_t>& build_id) {
  if (data == nullptr || data->d_buf == nullptr) return false;
  GElf_Nhdr note;
  size_t name_offset = 0, desc_offset = 0;
  size_t offset = 0;
  const auto* bytes = static_cast<const uint8_t*>(data->d_buf);
  // gelf_getnote bounds-checks each note against d_size and returns 0 at the end or on junk.
  while (offset < data->d_size &&
         (offset = ::gelf_getnote(data, offset, &note, &name_offset, &desc_offset)) > 0) {
    if (note.n_type != NT_GNU_BUILD_ID || note.n_namesz != 4 ||
        std::memcmp(bytes + name_offset, "GNU", 4) != 0 || note.n_descsz == 0) {
      continue;
    }
    build_id.assign(bytes + desc_offset, bytes + desc_offset + note.n_descsz);
    return true;
  }
  return false;
}

std::vector<uint8_t> find_build_id(Elf* elf) {
  std::vector<uint8_t> build_id;
  size_t phnum = 0;
  if (::elf_getphdrnum(elf, &phnum) == 0) {
    for (size_t i = 0; i < phnum; ++i) {
      GElf_Phdr phdr;
      if (::gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_NOTE) {
        continue;
      }
      Elf_Data* data = ::elf_getdata_rawchunk(elf, static_cast<int64_t>(phdr.p_offset),
                                              phdr.p_filesz, ELF_T_NHDR);
      if (build_id_from_notes(data, build_id)) return build_id;
    }
  }
  // Files whose program headers lack the note (some linkers, relocatable objects).
  Elf_Scn* section = nullptr;
  while ((section = ::elf_nextscn(elf, section)) != nullptr) {
    GElf_Shdr shdr;
    if (::gelf_getshdr(section, &shdr) == nullptr || shdr.sh_type != SHT_NOTE) continue;
    if (build_id_from_notes(::elf_getdata(section, nullptr), build_id)) return build_id;
  }
  return build_id;
}

std::string soname_from_sections(Elf* elf) {
  Elf_Scn* section = nullptr;
  while ((section = ::elf_nextscn(elf, section)) != nullptr) {
    GElf_Shdr shdr;
    if (::gelf_getshdr(section, &shdr) == nullptr || shdr.sh_type != SHT_DYNAMIC) continue;
    Elf_Data* data = ::elf_getdata(section, nullptr);
    if (data == nullptr || shdr.sh_entsize == 0) continue;
    size_t count = data->d_size / shdr.sh_entsize;
    for (size_t i = 0; i < count; ++i) {
      GElf_Dyn dyn;
      if (::gelf_getdyn(data, static_cast<int>(i), &dyn) == nullptr) break;
      if (dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag != DT_SONAME) continue;
      // elf_strptr checks the offset against the string table's size.
      const char* name = ::elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val);
      return name != nullptr ? std::string(name) : std::string();
    }
  }
  return {};
}

// File offset of a virtual address, through the PT_LOAD that maps it.
std::optional<uint64_t> file_offset_of(Elf* elf, size_t phnum, uint64_t address) {
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (::gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_LOAD) {
      continue;
    }
    if (address >= phdr.p_vaddr && address - phdr.p_vaddr < phdr.p_filesz) {
      return phdr.p_offset + (address - phdr.p_vaddr);
    }
  }
  return std::nullopt;
}

// Files stripped of section headers still have PT_DYNAMIC, whose DT_STRTAB is an address.
std::string soname_from_segments(Elf* elf) {
  size_t phnum = 0;
  if (::elf_getphdrnum(elf, &phnum) != 0) return {};
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr phdr;
    if (::gelf_getphdr(elf, static_cast<int>(i), &phdr) == nullptr || phdr.p_type != PT_DYNAMIC) {
      continue;
    }
    Elf_Data* data = ::elf_getdata_rawchunk(elf, static_cast<int64_t>(phdr.p_offset),
                                            phdr.p_filesz, ELF_T_DYN);
    if (data == nullptr) return {};
    uint64_t strtab = 0, strsz = 0, soname = 0;
    bool has_soname = false;
    for (int j = 0;; ++j) {
      GElf_Dyn dyn;
      if (::gelf_getdyn(data, j, &dyn) == nullptr || dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag == DT_STRTAB) strtab = dyn.d_un.d_ptr;
      if (dyn.d_tag == DT_STRSZ) strsz = dyn.d_un.d_val;
      if (dyn.d_tag == DT_SONAME) { soname = dyn.d_un.d_val; has_soname = true; }
    }
    if (!has_soname || soname >= strsz) return {};
    auto offset = file_offset_of(elf, phnum, strtab);
    if (!offset) return {};
    Elf_Data* strings = ::elf_getdata_rawchunk(elf, static_cast<int64_t>(*offset), strsz,
                                               ELF_T_BYTE);
    if (strings == nullptr || strings->d_size < strsz) return {};
    const char* begin = static_cast<const char*>(strings->d_buf) + soname;
    const char* end = static_cast<const char*>(std::memchr(begin, '\0', strsz - soname));
    return end != nullptr ? std::string(begin, end) : std::string();
  }
  return {};
}

std::optional<ElfIdentity> identity_of(Elf* elf) {
  if (elf == nullptr || ::elf_kind(elf) != ELF_K_ELF) return std::nullopt;
  GElf_Ehdr ehdr;
  if (::gelf_getehdr(elf, &ehdr) == nullptr) return std::nullopt;
  ElfIdentity identity;
  identity.elf_type = ehdr.e_type;
  std::vector<uint8_t> build_id = find_build_id(elf);
  identity.build_id.assign(build_id.begin(), build_id.end());
  identity.soname.assign(soname_from_sections(elf));
  if (identity.soname.empty()) identity.soname.assign(soname_from_segments(elf));
  return identity;
}

std::optional<ElfIdentity> identity_of_fd(int fd, const struct stat& st) {
  if (!libelf_ready()) return std::nullopt;
  ElfCloser elf{::elf_begin(fd, ELF_C_READ_MMAP, nullptr)};
  auto identity = identity_of(elf.elf);
  if (identity) {
    identity->file_size = static_cast<uint64_t>(st.st_size);
    identity->file_mtime_unix = st.st_mtim.tv_sec;
  }
  return identity;
}

// Opens `path` only when it is a regular file: opening a device file could have effects.
int open_regular(const std::string& path, struct stat& st) {
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  // The file could have been swapped between stat and open; trust what was opened.
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool read_target_memory(pid_t pid, uint64_t address, std::vector<uint8_t>& bytes) {
  iovec local{bytes.data(), bytes.size()};
  iovec remote{reinterpret_cast<void*>(address), bytes.size()};
  ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n == static_cast<ssize_t>(bytes.size())) return true;
  // process_vm_readv is missing or blocked (seccomp, some containers): /proc/PID/mem needs the
  // same ptrace access and reads the same bytes.
  int fd = ::open(fmt::format("/proc/{}/mem", pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  FdCloser closer{fd};
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t got = ::pread(fd, bytes.data() + done, bytes.size() - done,
                          static_cast<off_t>(address + done));
    if (got <= 0) return false;
    done += static_cast<size_t>(got);
  }
  return true;
}

void attach_vdso_identity(pid_t pid, Region& vdso) {
  constexpr uint64_t kMaxVdsoSize = 64 * 1024 * 1024;  // a sanity bound, vDSOs are a few pages
  uint64_t size = vdso.end - vdso.start;
  if (size == 0 || size > kMaxVdsoSize || !libelf_ready()) return;
  std::vector<uint8_t> bytes(size);
  if (!read_target_memory(pid, vdso.start, bytes)) return;
  ElfCloser elf{::elf_memory(reinterpret_cast<char*>(bytes.data()), bytes.size())};
  auto identity = identity_of(elf.elf);
  if (!identity) return;
  identity->load_address = vdso.start;
  identity->image_size = size;
  identity->file_size = size;
  vdso.elf = std::move(*identity);
  vdso.type = RegionType::image;
}

// The file mapped at `head`, or -1. map_files opens the very file that is mapped (even deleted,
// or in another mount namespace) but needs CAP_SYS_ADMIN on older kernels; the paths are
// fallbacks.
int open_mapped_file(pid_t pid, const Region& head, struct stat& st) {
  int fd = open_regular(fmt::format("/proc/{}/map_files/{:x}-{:x}", pid, head.start, head.end), st);
  if (fd >= 0) return fd;
  fd = open_regular(fmt::format("/proc/{}/root{}", pid, head.path), st);
  if (fd < 0) fd = open_regular(std::string(head.path), st);
  // A path may since name another file (an upgraded library): take only the mapped inode.
  // (Overlay file systems can report other inode numbers; then the module stays unnamed rather
  // than wrongly named.)
  if (fd >= 0 && st.st_ino != head.inode) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

// The value of dynamic symbol `name`, less the lowest PT_LOAD address: its offset from the base.
std::optional<uint64_t> dynamic_symbol_offset(Elf* elf, std::string_view name) {
  size_t phnum = 0;
  if (elf == nullptr || ::elf_getphdrnum(elf, &phnum) != 0) return std::nullopt;
  std::optional<uint64_t> lowest_load;
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (::gelf_getphdr(elf, static_cast<int>(i), &ph) != nullptr && ph.p_type == PT_LOAD) {
      uint64_t page = ph.p_vaddr & ~uint64_t{0xfff};
      lowest_load = lowest_load ? std::min(*lowest_load, page) : page;
    }
  }
  if (!lowest_load) return std::nullopt;
  for (Elf_Scn* scn = ::elf_nextscn(elf, nullptr); scn != nullptr; scn = ::elf_nextscn(elf, scn)) {
    GElf_Shdr sh;
    if (::gelf_getshdr(scn, &sh) == nullptr || sh.sh_type != SHT_DYNSYM || sh.sh_entsize == 0) continue;
    Elf_Data* data = ::elf_getdata(scn, nullptr);
    if (data == nullptr) continue;
    for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; ++i) {
      GElf_Sym sym;
      if (::gelf_getsym(data, static_cast<int>(i), &sym) == nullptr || sym.st_shndx == SHN_UNDEF) continue;
      const char* symbol = ::elf_strptr(elf, sh.sh_link, sym.st_name);
      if (symbol != nullptr && name == symbol && sym.st_value >= *lowest_load) return sym.st_value - *lowest_load;
    }
  }
  return std::nullopt;
}

bool is_file_mapping(const Region& region) {
  return region.inode != 0 && !region.path.empty() && region.path.front() == '/';
}

}  // namespace

std::optional<uint64_t> module_symbol_offset(pid_t pid, const Region& module, std::string_view name) {
  if (!module.elf || !libelf_ready()) return std::nullopt;
  struct stat st {};
  int fd = open_mapped_file(pid, module, st);
  if (fd < 0) return std::nullopt;
  FdCloser closer{fd};
  ElfCloser elf{::elf_begin(fd, ELF_C_READ_MMAP, nullptr)};
  return dynamic_symbol_offset(elf.elf, name);
}

std::optional<ElfIdentity> read_elf_identity(const std::string& path) {
  struct stat st {};
  int fd = open_regular(path, st);
  if (fd < 0) return std::nullopt;
  FdCloser closer{fd};
  return identity_of_fd(fd, st);
}

void attach_module_identities(pid_t pid, std::span<Region> regions) {
  // One module per mapped file: mappings of the same (device, inode, path) belong together.
  using FileKey = std::tuple<uint32_t, uint32_t, uint64_t, std::string>;
  std::map<FileKey, std::vector<size_t>> files;
  for (size_t i = 0; i < regions.size(); ++i) {
    const Region& region = regions[i];
    if (region.path == "[vdso]") {
      attach_vdso_identity(pid, regions[i]);
    } else if (is_file_mapping(region)) {
      files[{region.dev_major, region.dev_minor, region.inode, std::string(region.path)}].push_back(i);
    }
  }

  // Several paths (hard links, bind mounts) can name one file; parse each file once.
  using IdentityKey = std::tuple<dev_t, ino_t, int64_t, int64_t>;
  std::map<IdentityKey, std::optional<ElfIdentity>> cache;

  for (const auto& [key, indexes] : files) {
    // The ELF header is at file offset 0; the lowest such mapping is the module base.
    std::optional<size_t> base;
    for (size_t i : indexes) {
      if (regions[i].file_offset == 0 && (!base || regions[i].start < regions[*base].start)) {
        base = i;
      }
    }
    if (!base) continue;
    Region& head = regions[*base];

    struct stat st {};
    int fd = open_mapped_file(pid, head, st);
    if (fd < 0) continue;
    FdCloser closer{fd};

    IdentityKey identity_key{st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    auto cached = cache.find(identity_key);
    if (cached == cache.end()) {
      cached = cache.emplace(identity_key, identity_of_fd(fd, st)).first;
    }
    if (!cached->second) continue;

    // The image is the run of this file's mappings that starts at the header: the loader maps
    // a module as one contiguous span (r--, r-x, r--, rw-, possibly ---p alignment holes of
    // the same file). The run ends at another file, at a second header of this one (the file
    // loaded or mapped again), or at a hole. Other mappings of the same file (a data mmap of
    // an executable, say) stay RegionType::mapped.
    uint64_t image_end = head.end;
    head.type = RegionType::image;
    auto same_file = [&](const Region& r) {
      return r.inode == head.inode && r.dev_major == head.dev_major &&
             r.dev_minor == head.dev_minor && r.path == head.path;
    };
    for (size_t j = *base + 1; j < regions.size(); ++j) {
      Region& r = regions[j];
      if (r.start != regions[j - 1].end || !same_file(r) || r.file_offset == 0) break;
      image_end = r.end;
      r.type = RegionType::image;
    }
    ElfIdentity identity = *cached->second;
    identity.load_address = head.start;
    identity.image_size = image_end - head.start;
    head.elf = std::move(identity);
  }
}

}  // namespace snapdump::os
