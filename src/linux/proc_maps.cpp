// /proc/PID/maps and /proc/PID/smaps: the target's address space, one Region per VMA.
#include <sys/mman.h>

#include <string>
#include <string_view>
#include <vector>

#include <fmt/core.h>

#include "common/records_in.h"
#include "linux/proc_files.h"
#include "linux/procfs.h"
#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

bool is_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A maps line starts with "start-end"; smaps field lines ("Rss:   4 kB") never do. Checking the
// shape first keeps a field like "AnonHugePages" (which starts with a hex letter) from being
// mistaken for a header.
bool looks_like_header(std::string_view line) noexcept {
  size_t dash = line.find('-');
  if (dash == 0 || dash == std::string_view::npos) return false;
  for (size_t i = 0; i < dash; ++i) {
    if (!is_hex_digit(line[i])) return false;
  }
  return true;
}

// One maps line: "start-end perms offset major:minor inode   path". The path is the rest of
// the line after the padding, so it may hold spaces and end in " (deleted)".
bool parse_header(std::string_view line, Region& region) {
  std::string_view rest = line;
  std::string_view range = text::next_token(rest);
  std::string_view perms = text::next_token(rest);
  std::string_view offset = text::next_token(rest);
  std::string_view device = text::next_token(rest);
  std::string_view inode = text::next_token(rest);

  size_t dash = range.find('-');
  size_t colon = device.find(':');
  if (dash == std::string_view::npos || colon == std::string_view::npos || perms.size() < 4) {
    return false;
  }
  auto start = text::parse_u64(range.substr(0, dash), 16);
  auto end = text::parse_u64(range.substr(dash + 1), 16);
  auto file_offset = text::parse_u64(offset, 16);
  auto major = text::parse_u64(device.substr(0, colon), 16);
  auto minor = text::parse_u64(device.substr(colon + 1), 16);
  auto inode_number = text::parse_u64(inode, 10);
  if (!start || !end || !file_offset || !major || !minor || !inode_number || *end < *start) {
    return false;
  }

  region = region_in(region.path.get_allocator().resource());
  region.start = *start;
  region.end = *end;
  region.prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) |
                (perms[2] == 'x' ? PROT_EXEC : 0);
  region.shared = perms[3] == 's';
  region.file_offset = *file_offset;
  region.dev_major = static_cast<uint32_t>(*major);
  region.dev_minor = static_cast<uint32_t>(*minor);
  region.inode = *inode_number;
  // Only the padding before the path is dropped: trailing spaces could be part of a name.
  while (!rest.empty() && text::is_space(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r')) rest.remove_suffix(1);
  region.path.assign(rest);

  // Shared anonymous memory (/dev/zero, SysV shm, memfd) is backed by a shmem inode, so "has
  // an inode" or "is shared" both mean the region's pages have a name outside the process.
  bool file_backed = region.inode != 0 && !region.path.empty() && region.path.front() == '/';
  region.type = (file_backed || region.shared) ? RegionType::mapped : RegionType::private_;
  return true;
}

void apply_vm_flags(std::string_view flags, Region& region) {
  while (true) {
    std::string_view flag = text::next_token(flags);
    if (flag.empty()) break;
    if (flag == "dc") region.dont_fork = true;
    else if (flag == "wf") region.wipe_on_fork = true;
    else if (flag == "dd") region.dont_dump = true;
    else if (flag == "hg") region.huge_pages = true;
    else if (flag == "io" || flag == "pf") region.io = true;
  }
}

void apply_smaps_field(std::string_view line, Region& region) {
  std::string_view key, value;
  if (!text::split_key_value(line, key, value)) return;
  if (key == "VmFlags") {
    apply_vm_flags(value, region);
    return;
  }
  uint64_t* target = nullptr;
  if (key == "Rss") target = &region.rss;
  else if (key == "Anonymous") target = &region.anonymous;
  else if (key == "Swap") target = &region.swap;
  else if (key == "AnonHugePages") target = &region.anon_huge;
  if (target == nullptr) return;
  if (auto bytes = text::parse_kb_as_bytes(value)) *target = *bytes;
}

}  // namespace

std::pmr::vector<Region> parse_maps(std::string_view text_in, bool with_smaps,
                                    std::pmr::memory_resource* memory) {
  std::pmr::vector<Region> regions(memory);
  std::string_view text = text_in;
  // Field lines only belong to the header just before them; after a header that did not
  // parse they are dropped rather than credited to the previous region.
  bool current_valid = false;
  while (!text.empty()) {
    std::string_view line = text::next_line(text);
    if (line.empty()) continue;
    if (looks_like_header(line)) {
      Region region = region_in(memory);
      current_valid = parse_header(line, region);
      if (current_valid) regions.push_back(std::move(region));
      continue;
    }
    if (with_smaps && current_valid) apply_smaps_field(line, regions.back());
  }
  return regions;
}

std::pmr::vector<MapExtent> parse_map_extents(std::string_view text, std::pmr::memory_resource* memory) {
  std::pmr::vector<MapExtent> extents(memory);
  extents.reserve(text.size() / 64 + 1);  // a maps line is rarely shorter than 64 bytes
  while (!text.empty()) {
    std::string_view line = text::next_line(text);
    if (!looks_like_header(line)) continue;
    std::string_view range = text::next_token(line);
    std::string_view perms = text::next_token(line);
    size_t dash = range.find('-');
    auto start = text::parse_u64(range.substr(0, dash), 16);
    auto end = text::parse_u64(range.substr(dash + 1), 16);
    if (!start || !end || *end < *start || perms.size() < 3) continue;
    uint32_t prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
    extents.push_back({*start, *end, prot});
  }
  return extents;
}

std::pmr::vector<MapExtent> read_map_extents(pid_t pid, std::pmr::memory_resource* memory) {
  ProcPath path(pid, "maps");
  std::pmr::string text(memory);
  if (int err = read_file(path.c_str(), text); err != 0) throw error_for_path(std::string(path.view()), err);
  return parse_map_extents(text, memory);
}

std::pmr::vector<Region> read_maps(pid_t pid, bool with_smaps, std::pmr::memory_resource* memory,
                                   std::pmr::memory_resource* scratch) {
  ProcPath path(pid, with_smaps ? "smaps" : "maps");
  std::pmr::string text(scratch);
  if (int err = read_file(path.c_str(), text); err != 0) throw error_for_path(std::string(path.view()), err);
  return parse_maps(text, with_smaps, memory);
}

}  // namespace snapdump::os
