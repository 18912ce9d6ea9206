#include "writer/core/core_segments.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "snapdump/format/constants.h"
#include "writer/range_set.h"

namespace snapdump::writer::core {
namespace {

uint64_t page_down(uint64_t a) { return a & ~(kPageSize - 1); }
uint64_t page_up(uint64_t a) { return a > UINT64_MAX - (kPageSize - 1) ? page_down(a) : page_down(a + kPageSize - 1); }

bool file_backed(const view::Mapping& m) { return m.inode != 0 && !m.path.empty() && m.path.front() == '/'; }

// A shared mapping whose file has no name left: /dev/zero or MAP_SHARED|MAP_ANONYMOUS (shmem
// "/dev/zero (deleted)"), System V shared memory ("/SYSV00000000 (deleted)"), an unlinked memfd.
// The kernel tests the inode's link count; the maps line says it with " (deleted)".
bool anonymous_shared(const view::Mapping& m) {
  std::string_view path = m.path;
  constexpr std::string_view kDeleted = " (deleted)";
  return m.inode == 0 || path.empty() || (path.size() >= kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) ||
         path.starts_with("/dev/zero") || path.starts_with("/SYSV");
}

bool hugetlb(const view::Mapping& m) {
  return m.path.starts_with("/anon_hugepage") || m.path.find("/hugepages") != std::string::npos;
}

// The kernel's always_dump_vma: the gate area and special mappings such as the vDSO, whose
// code every unwinder needs. [vsyscall] is execute-only on current kernels (vsyscall=xonly):
// nothing can read it, and the kernel's core gets no bytes of it either.
bool always_dumped(const view::Mapping& m) { return m.path == "[vdso]" || m.path == "[vsyscall]"; }

uint32_t segment_flags(uint32_t prot) {
  return ((prot & PROT_READ) ? PF_R : 0) | ((prot & PROT_WRITE) ? PF_W : 0) | ((prot & PROT_EXEC) ? PF_X : 0);
}

// MINIDUMP_MEMORY_INFO of a mapping, for IncludeVmRegionCallback (the minidump writer's units).
VmRegionInfo region_info(const view::Mapping& m) {
  namespace page = format::page;
  bool read = m.prot & PROT_READ, write = m.prot & PROT_WRITE, exec = m.prot & PROT_EXEC;
  bool copy_on_write = write && !m.shared && file_backed(m);
  uint32_t protect = exec ? (write ? (copy_on_write ? page::kExecuteWriteCopy : page::kExecuteReadWrite)
                                   : (read ? page::kExecuteRead : page::kExecute))
                          : (write ? (copy_on_write ? page::kWriteCopy : page::kReadWrite)
                                   : (read ? page::kReadOnly : page::kNoAccess));
  VmRegionInfo info;
  info.base = m.start;
  info.allocation_base = m.start;
  info.size = m.end - m.start;
  info.state = format::mem::kCommit;
  info.protect = info.allocation_protect = protect;
  info.type = file_backed(m) || m.shared ? format::mem::kMapped : format::mem::kPrivate;
  return info;
}

bool starts_with_elf_magic(const view::ProcessView& view, const view::Mapping& m) {
  uint8_t magic[SELFMAG];
  return m.end - m.start >= SELFMAG && view.read_memory(m.start, magic) == SELFMAG && std::memcmp(magic, ELFMAG, SELFMAG) == 0;
}

// The ranges MemoryCallback or RemoveMemoryCallback hand out, until they say they are done.
template <class Next>
RangeSet collect(Next next) {
  RangeSet set;
  while (true) {
    std::optional<MemoryRange> range = next();
    if (!range || range->size == 0) break;
    uint64_t end = range->base + std::min(range->size, UINT64_MAX - range->base);
    set.add(page_down(range->base), page_up(end));
  }
  return set;
}

}  // namespace

uint64_t kernel_dump_size(const view::ProcessView& view, const view::Mapping& m, const Selection& sel) {
  uint64_t whole = m.end - m.start;
  // MADV_DONTDUMP is the program's own word that the bytes must not leave it (keys, secrets):
  // kept even by --full. VM_IO and PFN maps are device memory: reading them can have effects.
  if (m.dont_dump || m.io) return 0;
  if (always_dumped(m)) return (m.prot & PROT_READ) ? whole : 0;
  if (sel.full) return (m.prot & PROT_READ) ? whole : 0;
  auto wants = [&](uint32_t bit) { return (sel.filter & bit) != 0; };
  if (hugetlb(m)) return wants(m.shared ? filter::kHugetlbShared : filter::kHugetlbPrivate) ? whole : 0;
  if (m.shared) return wants(anonymous_shared(m) ? filter::kAnonShared : filter::kMappedShared) ? whole : 0;
  // A private mapping with pages of its own (the kernel's anon_vma): written data, the heap,
  // stacks. PROT_NONE is a reservation or a guard (a JVM's heap reserve, a thread's guard page):
  // nothing to read there.
  bool anonymous = !file_backed(m);
  if (m.written && m.prot != 0 && wants(filter::kAnonPrivate)) return whole;
  if (anonymous) return 0;
  if (wants(filter::kMappedPrivate)) return whole;
  // The first page of an ELF file's mapping: its header and, right behind it, the program
  // headers and build-id note, so a reader can tell which binary was mapped here.
  if (wants(filter::kElfHeaders) && m.file_offset == 0 && (m.prot & PROT_READ) && starts_with_elf_magic(view, m)) {
    return std::min(whole, kPageSize);
  }
  return 0;
}

std::vector<Segment> plan_segments(const view::ProcessView& view, const Selection& sel, Steering& steering) {
  RangeSet added = collect([&] { return steering->memory(); });
  RangeSet removed = collect([&] { return steering->remove_memory(); });
  bool ask_regions = true;
  std::vector<Segment> out;
  for (const view::Mapping& m : view.mappings()) {
    if (m.end <= m.start) continue;
    RangeSet data;
    if (uint64_t size = kernel_dump_size(view, m, sel); size > 0) {
      uint64_t start = m.start, end = m.start + size;
      if (ask_regions) {
        VmRegionInfo info = region_info(m);
        info.size = size;
        if (steering->include_vm_region(info)) {
          // Only a narrowing is taken: a callback cannot widen a mapping's bytes past the mapping.
          start = std::clamp(page_up(info.base), start, end);
          end = std::clamp(page_down(info.base + std::min(info.size, UINT64_MAX - info.base)), start, end);
        } else {
          ask_regions = false;  // "stop these callbacks": this and every later mapping as chosen
        }
      }
      data.add(start, end);
    }
    for (const auto& [lo, hi] : added.ranges()) {
      if (m.prot & PROT_READ) data.add(std::max(lo, m.start), std::min(hi, m.end));
    }
    for (const auto& [lo, hi] : removed.ranges()) data.remove(lo, hi);
    // A view that holds only parts of the address space (a minidump): those parts and no more.
    if (auto held = view.held(m.start, m.end)) {
      RangeSet kept;
      for (const auto& [lo, hi] : *held) {
        for (const auto& [dlo, dhi] : data.ranges()) kept.add(std::max(lo, dlo), std::min(hi, dhi));
      }
      data = kept;
    }
    // Pieces: each run of bytes in the file, with the gap that follows it (up to the next run or
    // the mapping's end) as the rest of its PT_LOAD; a gap at the start has a PT_LOAD of its own.
    uint32_t flags = segment_flags(m.prot);
    auto runs = data.ranges();
    uint64_t at = m.start;
    if (runs.empty() || runs.front().first > m.start) {
      uint64_t gap_end = runs.empty() ? m.end : runs.front().first;
      out.push_back({m.start, gap_end, 0, flags});
      at = gap_end;
    }
    for (size_t i = 0; i < runs.size(); ++i) {
      uint64_t lo = std::max(runs[i].first, at), hi = std::min(runs[i].second, m.end);
      if (lo >= hi) continue;
      uint64_t next = i + 1 < runs.size() ? runs[i + 1].first : m.end;
      out.push_back({lo, std::min(next, m.end), hi - lo, flags});
      at = std::min(next, m.end);
    }
  }
  return out;
}

}  // namespace snapdump::writer::core
