// Module identities (GNU build-id, soname) read from the mapped files, and from the target's
// memory for the vDSO, which has no file. Heap-free (kCreateUseVmAllocations): paths are built
// with snprintf into arrays, files are read through elf_reader.h's bounded reader, and the
// call's bookkeeping lives in the scratch resource.
#include "common/records_in.h"
#include "linux/elf_identity.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <tuple>

#include "linux/elf_reader.h"
#include "linux/process_memory.h"

namespace snapdump::os {
namespace {

// One read window per file: the headers, notes and .dynamic of a library fit in one or two
// refills. Taken once per call, so a bump arena pays it once.
constexpr size_t kWindow = 64 * 1024;

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

std::optional<ElfIdentity> identity_of(const elf::ElfSource& source, std::span<uint8_t> window,
                                       std::pmr::memory_resource* out) {
  auto reader = elf::ElfReader::open(source, window);
  if (!reader) return std::nullopt;
  std::optional<ElfIdentity> identity(elf_identity_in(out));
  identity->elf_type = reader->header().e_type;
  reader->build_id(identity->build_id);
  reader->soname(identity->soname);
  return identity;
}

// Opens `path` only when it is a regular file: opening a device file could have effects.
int open_regular(const char* path, struct stat& st) {
  if (::stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  // The file could have been swapped between stat and open; trust what was opened.
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

std::optional<ElfIdentity> identity_of_fd(int fd, const struct stat& st, std::span<uint8_t> window,
                                          std::pmr::memory_resource* out) {
  auto source = elf::ElfSource::file(fd, static_cast<uint64_t>(st.st_size));
  auto identity = identity_of(source, window, out);
  if (identity) {
    identity->file_size = static_cast<uint64_t>(st.st_size);
    identity->file_mtime_unix = st.st_mtim.tv_sec;
  }
  return identity;
}

bool read_target_memory(pid_t pid, uint64_t address, std::span<uint8_t> bytes) {
  if (read_process_memory(pid, address, bytes) == bytes.size()) return true;
  // process_vm_readv is missing or blocked (seccomp, some containers): /proc/PID/mem needs the
  // same ptrace access and reads the same bytes.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/mem", static_cast<int>(pid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  FdCloser closer{fd};
  return read_mem_file(fd, address, bytes) == bytes.size();
}

void attach_vdso_identity(pid_t pid, Region& vdso, std::pmr::memory_resource* out,
                          std::pmr::memory_resource* scratch) {
  // A sanity bound on what is copied into scratch: vDSOs are a few pages.
  constexpr uint64_t kMaxVdsoSize = 1024 * 1024;
  uint64_t size = vdso.end - vdso.start;
  if (size == 0 || size > kMaxVdsoSize) return;
  elf::ScratchBuffer bytes(scratch, static_cast<size_t>(size));
  if (!read_target_memory(pid, vdso.start, bytes.bytes())) return;
  // A memory source hands out its own bytes: the reader needs no window.
  auto identity = identity_of(elf::ElfSource::memory(bytes.bytes()), {}, out);
  if (!identity) return;
  identity->load_address = vdso.start;
  identity->image_size = size;
  identity->file_size = size;
  vdso.elf.reset();
  vdso.elf.emplace(std::move(*identity));
  vdso.type = RegionType::image;
}

// The file mapped at `head`, or -1. map_files opens the very file that is mapped (even deleted,
// or in another mount namespace) but needs CAP_SYS_ADMIN on older kernels; the paths are
// fallbacks.
int open_mapped_file(pid_t pid, const Region& head, struct stat& st) {
  char path[PATH_MAX + 64];
  std::snprintf(path, sizeof path, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, static_cast<int>(pid),
                head.start, head.end);
  int fd = open_regular(path, st);
  if (fd >= 0) return fd;
  int n = std::snprintf(path, sizeof path, "/proc/%d/root%s", static_cast<int>(pid), head.path.c_str());
  if (n > 0 && static_cast<size_t>(n) < sizeof path) fd = open_regular(path, st);
  if (fd < 0) fd = open_regular(head.path.c_str(), st);
  // A path may since name another file (an upgraded library): take only the mapped inode.
  // (Overlay file systems can report other inode numbers; then the module stays unnamed rather
  // than wrongly named.)
  if (fd >= 0 && st.st_ino != head.inode) {
    ::close(fd);
    fd = -1;
  }
  return fd;
}

bool is_file_mapping(const Region& region) {
  return region.inode != 0 && !region.path.empty() && region.path.front() == '/';
}

// One module per mapped file: mappings of the same (device, inode, path) belong together.
auto file_key(const Region& r) { return std::tie(r.dev_major, r.dev_minor, r.inode, r.path); }

// A file already parsed in this call. Several paths (hard links, bind mounts) can name one
// file; each is parsed once.
struct Parsed {
  dev_t dev;
  ino_t ino;
  int64_t mtime_sec, mtime_nsec;
  std::optional<size_t> region;  // the head whose `elf` holds its identity; none if not ELF
};

}  // namespace

std::optional<uint64_t> module_symbol_offset(pid_t pid, const Region& module, std::string_view name,
                                             std::pmr::memory_resource* scratch) {
  if (!module.elf) return std::nullopt;
  struct stat st {};
  int fd = open_mapped_file(pid, module, st);
  if (fd < 0) return std::nullopt;
  FdCloser closer{fd};
  auto source = elf::ElfSource::file(fd, static_cast<uint64_t>(st.st_size));
  elf::ScratchBuffer records(scratch, kWindow), strings(scratch, kWindow);
  auto reader = elf::ElfReader::open(source, records.bytes());
  if (!reader) return std::nullopt;
  return reader->symbol_offset(name, strings.bytes());
}

std::optional<ElfIdentity> read_elf_identity(std::string_view path, std::pmr::memory_resource* out,
                                             std::pmr::memory_resource* scratch) {
  char terminated[PATH_MAX];
  if (path.size() >= sizeof terminated) return std::nullopt;
  std::memcpy(terminated, path.data(), path.size());
  terminated[path.size()] = '\0';
  struct stat st {};
  int fd = open_regular(terminated, st);
  if (fd < 0) return std::nullopt;
  FdCloser closer{fd};
  elf::ScratchBuffer window(scratch, kWindow);
  return identity_of_fd(fd, st, window.bytes(), out);
}

void attach_module_identities(pid_t pid, std::span<Region> regions, std::pmr::memory_resource* out,
                              std::pmr::memory_resource* scratch) {
  // The ELF header is at file offset 0; each file's lowest such mapping is the module base.
  // Sorted by file then address, a file's base is the first of its run.
  size_t candidates = 0;
  for (const Region& region : regions) candidates += is_file_mapping(region) && region.file_offset == 0;
  std::pmr::vector<size_t> heads(scratch);
  heads.reserve(candidates);
  for (size_t i = 0; i < regions.size(); ++i) {
    Region& region = regions[i];
    if (region.path == "[vdso]") {
      attach_vdso_identity(pid, region, out, scratch);
    } else if (is_file_mapping(region) && region.file_offset == 0) {
      heads.push_back(i);
    }
  }
  std::sort(heads.begin(), heads.end(), [&](size_t a, size_t b) {
    return std::tuple_cat(file_key(regions[a]), std::tie(regions[a].start)) <
           std::tuple_cat(file_key(regions[b]), std::tie(regions[b].start));
  });

  elf::ScratchBuffer window(scratch, kWindow);
  std::pmr::vector<Parsed> parsed(scratch);
  parsed.reserve(heads.size());
  for (size_t k = 0; k < heads.size(); ++k) {
    if (k > 0 && file_key(regions[heads[k]]) == file_key(regions[heads[k - 1]])) continue;
    size_t base = heads[k];
    Region& head = regions[base];

    struct stat st {};
    int fd = open_mapped_file(pid, head, st);
    if (fd < 0) continue;
    FdCloser closer{fd};

    auto seen = std::find_if(parsed.begin(), parsed.end(), [&](const Parsed& p) {
      return p.dev == st.st_dev && p.ino == st.st_ino && p.mtime_sec == st.st_mtim.tv_sec &&
             p.mtime_nsec == st.st_mtim.tv_nsec;
    });
    std::optional<ElfIdentity> identity;
    if (seen == parsed.end()) {
      identity = identity_of_fd(fd, st, window.bytes(), out);
      parsed.push_back({st.st_dev, st.st_ino, st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                        identity ? std::optional<size_t>(base) : std::nullopt});
    } else if (seen->region) {
      identity.emplace(copy_in(*regions[*seen->region].elf, out));
    }
    if (!identity) continue;

    // The image is the run of this file's mappings that starts at the header: the loader maps
    // a module as one span (r--, r-x, r--, rw-, possibly ---p alignment holes of the same file).
    // The run ends at another file or at a second header of this one (the file loaded or
    // mapped again). It goes on past an unmapped hole only to a mapping placed as the loader
    // places a segment, at its file offset from the header plus a little alignment
    // (p_vaddr - p_offset, the same for every segment up to the max page size): a program may
    // unmap a page of its own image (node 20 leaves a hole after its first code pages), and
    // the code after it is still the module's. Other mappings of the same file (a data mmap of
    // an executable, V8's remapped builtins far above it) stay RegionType::mapped.
    constexpr uint64_t kMaxSegmentSlack = 64ull << 20;
    uint64_t image_end = head.end;
    head.type = RegionType::image;
    for (size_t j = base + 1; j < regions.size(); ++j) {
      Region& r = regions[j];
      if (file_key(r) != file_key(head) || r.file_offset == 0) break;
      const uint64_t from_head = r.start - head.start;
      const bool placed_as_segment = from_head >= r.file_offset && from_head - r.file_offset < kMaxSegmentSlack &&
                                     r.file_offset > regions[j - 1].file_offset;
      if (r.start != regions[j - 1].end && !placed_as_segment) break;
      image_end = r.end;
      r.type = RegionType::image;
    }
    identity->load_address = head.start;
    identity->image_size = image_end - head.start;
    head.elf.reset();
    head.elf.emplace(std::move(*identity));
  }
}

}  // namespace snapdump::os
