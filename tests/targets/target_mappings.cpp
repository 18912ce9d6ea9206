#include "target_mappings.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <vector>
#include <sys/mman.h>
#include <unistd.h>

#include "target_json.h"

namespace sdtarget {
namespace {

constexpr std::size_t kRegion = 64 * 1024;
constexpr std::size_t kHugePage = 2 * 1024 * 1024;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "snapdump_target: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void* map_anonymous(std::size_t size, int prot, int flags) {
  void* memory = mmap(nullptr, size, prot, flags | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) fail("mmap");
  return memory;
}

nlohmann::json region(const char* kind, const void* start, std::size_t size, int fill,
                      const char* perms) {
  nlohmann::json entry{{"kind", kind}, {"start", hex(start)}, {"size", size}, {"perms", perms}};
  // Absent rather than null for regions without a fill: readers test with contains().
  if (fill >= 0) entry["fill"] = hex(static_cast<std::uint64_t>(fill));
  return entry;
}

nlohmann::json filled(const char* kind, int flags, int advice, unsigned char fill,
                      const char* perms) {
  void* memory = map_anonymous(kRegion, PROT_READ | PROT_WRITE, flags);
  // Advice first: WIPEONFORK/DONTFORK are about the VMA, not its contents, but doing it
  // before the fill means the region is never seen without its flag.
  if (advice != 0 && madvise(memory, kRegion, advice) != 0) fail("madvise");
  std::memset(memory, fill, kRegion);
  return region(kind, memory, kRegion, fill, perms);
}

std::string own_executable() {
  char path[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n < 0) fail("readlink /proc/self/exe");
  return std::string(path, static_cast<std::size_t>(n));
}

}  // namespace

nlohmann::json create_untouched(std::size_t mib) {
  const std::size_t size = mib * 1024 * 1024;
  auto* memory = static_cast<char*>(map_anonymous(size, PROT_READ | PROT_WRITE, MAP_PRIVATE));
  // In the middle, so neither end of the region is the written page.
  const std::size_t offset = size / 2;
  static constexpr char kMarker[] = "sd-untouched-mk";
  std::memcpy(memory + offset, kMarker, sizeof kMarker);
  nlohmann::json entry = region("untouched", memory, size, -1, "rw-p");
  entry["marker_offset"] = offset;
  entry["marker"] = kMarker;
  return entry;
}

nlohmann::json create_large_dontfork(std::size_t mib) {
  const std::size_t size = mib << 20;
  void* memory = map_anonymous(size, PROT_READ | PROT_WRITE, MAP_PRIVATE);
  if (madvise(memory, size, MADV_DONTFORK) != 0) fail("madvise");
  constexpr std::uint64_t kTag = 0xD0F0'0000'0000'0000ull;
  auto* words = static_cast<std::uint64_t*>(memory);
  for (std::size_t i = 0; i < size / 8; ++i) words[i] = kTag ^ (i * 8);
  nlohmann::json entry = region("dontfork_large", memory, size, -1, "rw-p");
  entry["tag"] = hex(kTag);
  return entry;
}

nlohmann::json create_scattered_dontfork(std::size_t count) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  const std::size_t size = 64 * 1024, stride = size + page;
  // One reservation, then the holes punched: the regions' addresses are each other's neighbours
  // and nothing else lands between them.
  auto* base = static_cast<unsigned char*>(map_anonymous(count * stride, PROT_NONE, MAP_PRIVATE));
  nlohmann::json regions = nlohmann::json::array();
  for (std::size_t i = 0; i < count; ++i) {
    unsigned char* at = base + i * stride;
    if (munmap(at + size, page) != 0) fail("munmap");
    const char* kind = "scatter_dontfork";
    if (i == count / 3 && count >= 3) kind = "scatter_plain";
    if (i == 2 * count / 3 && count >= 3) kind = "scatter_none";
    const bool none = std::strcmp(kind, "scatter_none") == 0;
    const bool plain = std::strcmp(kind, "scatter_plain") == 0;
    if (!none && mprotect(at, size, PROT_READ | PROT_WRITE) != 0) fail("mprotect");
    if (!plain && madvise(at, size, MADV_DONTFORK) != 0) fail("madvise");
    const int fill = static_cast<int>(0x40 + i % 0x80);
    if (!none) std::memset(at, fill, size);
    regions.push_back(region(kind, at, size, none ? -1 : fill, none ? "---p" : "rw-p"));
  }
  return regions;
}

nlohmann::json create_mappings() {
  nlohmann::json mappings = nlohmann::json::array();
  mappings.push_back(filled("private_anon", MAP_PRIVATE, 0, 0xA1, "rw-p"));
  mappings.push_back(filled("shared_anon", MAP_SHARED, 0, 0xB2, "rw-s"));

  // An extra read-only view of the executable's first page, apart from the loader's own
  // mappings of it: a file-backed private region with a known path and offset.
  const std::string exe = own_executable();
  int exe_fd = open(exe.c_str(), O_RDONLY | O_CLOEXEC);
  if (exe_fd < 0) fail("open own executable");
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  void* file_view = mmap(nullptr, page, PROT_READ, MAP_PRIVATE, exe_fd, 0);
  if (file_view == MAP_FAILED) fail("mmap own executable");
  close(exe_fd);
  nlohmann::json file_entry = region("file_private", file_view, page, -1, "r--p");
  file_entry["path"] = exe;
  file_entry["offset"] = 0;
  file_entry["first_bytes"] = hex_bytes(static_cast<const std::uint8_t*>(file_view), 4);
  mappings.push_back(std::move(file_entry));

  mappings.push_back(filled("dontfork", MAP_PRIVATE, MADV_DONTFORK, 0xC3, "rw-p"));
  mappings.push_back(filled("wipeonfork", MAP_PRIVATE, MADV_WIPEONFORK, 0xD4, "rw-p"));

  // Reserve guard + region + guard as PROT_NONE, then open up only the middle, so the
  // guards are exactly adjacent to it.
  auto* reserved = static_cast<unsigned char*>(
      map_anonymous(kRegion + 2 * page, PROT_NONE, MAP_PRIVATE));
  unsigned char* guarded = reserved + page;
  if (mprotect(guarded, kRegion, PROT_READ | PROT_WRITE) != 0) fail("mprotect");
  std::memset(guarded, 0xE5, kRegion);
  // The guards are fields of this entry, not entries of their own: they hold no data, and a
  // capture may rightly leave inaccessible pages out.
  nlohmann::json guarded_entry = region("guarded", guarded, kRegion, 0xE5, "rw-p");
  guarded_entry["guard_before"] = hex(reserved);
  guarded_entry["guard_after"] = hex(guarded + kRegion);
  guarded_entry["guard_size"] = page;
  mappings.push_back(std::move(guarded_entry));

  // THP: 4 MiB on a 2 MiB boundary, advised before first touch so the kernel can back it
  // with huge pages right away.
  const std::size_t thp_size = 4 * 1024 * 1024;
  auto* raw = static_cast<unsigned char*>(
      map_anonymous(thp_size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE));
  auto start = reinterpret_cast<std::uintptr_t>(raw);
  auto aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(raw, aligned - start);
  if (std::uintptr_t tail = start + thp_size + kHugePage - (aligned + thp_size); tail > 0)
    munmap(reinterpret_cast<void*>(aligned + thp_size), tail);
  auto* thp = reinterpret_cast<unsigned char*>(aligned);
  const bool advised = madvise(thp, thp_size, MADV_HUGEPAGE) == 0;
  std::memset(thp, 0xF7, thp_size);
  nlohmann::json thp_entry = region("thp", thp, thp_size, 0xF7, "rw-p");
  thp_entry["advised"] = advised;
  mappings.push_back(std::move(thp_entry));
  return mappings;
}

}  // namespace sdtarget

namespace sdtarget {

nlohmann::json create_truncated_mapping() {
  const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  std::string path = "/tmp/snapdump-target-" + std::to_string(getpid()) + ".short";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) fail("create the short file");
  std::vector<unsigned char> bytes(page, 0x5C);
  if (write(fd, bytes.data(), page) != static_cast<ssize_t>(page)) fail("write the short file");
  void* view = mmap(nullptr, 3 * page, PROT_READ, MAP_PRIVATE, fd, 0);
  if (view == MAP_FAILED) fail("mmap the short file");
  close(fd);
  unlink(path.c_str());  // the mapping keeps it; nothing is left in /tmp
  nlohmann::json entry = region("truncated_file", view, 3 * page, -1, "r--p");
  entry["readable"] = page;
  entry["fill"] = "0x5c";
  return entry;
}

}  // namespace sdtarget
