#include "writer/memory_selection.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "snapdump/format/constants.h"

namespace snapdump::writer {
bool readable(const Region& r) { return r.copy != RegionCopy::unreadable && (r.prot & PROT_READ) && !r.io; }

// The kernel's special mappings ([vdso], [vvar]) have inode 0 too, but their pages are the
// kernel's, and a fork does not copy their page table entries: the clone maps the vDSO pages
// the target touched only once it touches them itself, so a page-table scan there says nothing
// about what is readable. They are written whole.
bool anonymous_memory(const Region& r) {
  if (r.inode != 0 || r.shared) return false;
  std::string_view path = r.path;
  return path.empty() || path == "[heap]" || path.starts_with("[stack") || path.starts_with("[anon:");
}

namespace {

// The mappings of a module: those of its file inside its image span, and the anonymous
// mappings inside it or right after it (.bss and the heap-like tail of a data segment).
std::vector<const Region*> module_regions(const Snapshot& snapshot, const PlannedModule& m) {
  const ElfIdentity& elf = *m.region->elf;
  uint64_t end = elf.load_address + elf.image_size;
  std::vector<const Region*> out;
  for (const Region& r : snapshot.memory_map()) {
    if (r.start < elf.load_address) continue;
    bool own = r.path == m.region->path && r.start < end;
    bool bss = r.path.empty() && (r.start < end || (!out.empty() && r.start == out.back()->end && r.start == end));
    if (!own && !bss) {
      if (r.start >= end) break;
      continue;
    }
    out.push_back(&r);
  }
  return out;
}

// Every 8-byte word of each planned thread's stack, read once (for the scans).
template <class Visit>
void for_each_stack_word(const Snapshot& snapshot, const DumpOptions& options, const DumpPlan& plan,
                         MemoryReader& reader, Visit visit) {
  std::vector<uint8_t> bytes;
  for (const PlannedThread& p : plan.threads) {
    auto [lo, hi] = stack_bounds(snapshot, options, *p.thread);
    lo &= ~uint64_t{7};
    if (hi <= lo) continue;
    bytes.resize(hi - lo);
    size_t got = reader.read(lo, bytes, ReadPurpose::inspect);
    for (size_t i = 0; i + 8 <= got; i += 8) {
      uint64_t word;
      std::memcpy(&word, bytes.data() + i, 8);
      visit(word);
    }
  }
}

bool in_any_stack(const Snapshot& snapshot, uint64_t value) {
  for (const ThreadEntry& t : snapshot.threads()) {
    if (t.stack_base > t.stack_limit && value >= t.stack_limit && value < t.stack_base) return true;
  }
  return false;
}

void add_clipped(RangeSet& set, const Region& r, uint64_t lo, uint64_t hi) {
  lo = std::max(lo, r.start);
  hi = std::min(hi, r.end);
  if (lo < hi) set.add(lo, hi);
}

}  // namespace

std::pair<uint64_t, uint64_t> stack_bounds(const Snapshot& snapshot, const DumpOptions& options, const ThreadEntry& t) {
  const Region* r = t.regs.rsp ? find_region(snapshot.memory_map(), t.regs.rsp) : nullptr;
  if (!r || !readable(*r)) return {0, 0};
  uint64_t lo = std::max<uint64_t>(r->start, t.regs.rsp - std::min<uint64_t>(t.regs.rsp, 128));
  uint64_t hi = std::min<uint64_t>(r->end, lo + options.max_stack_bytes);
  return {lo, hi};
}

void mark_referenced_modules(const Snapshot& snapshot, const DumpOptions& options, DumpPlan& plan,
                             MemoryReader& reader) {
  for_each_stack_word(snapshot, options, plan, reader, [&](uint64_t word) {
    for (PlannedModule& m : plan.modules) {
      const ElfIdentity& elf = *m.region->elf;
      if (word >= elf.load_address && word - elf.load_address < elf.image_size) m.flags |= module_write::kReferencedByMemory;
    }
  });
}

void select_memory(const Snapshot& snapshot, const DumpOptions& options, DumpPlan& plan, MemoryReader& reader) {
  const auto& regions = snapshot.memory_map();
  DumpType type = options.type;
  for (const PlannedThread& p : plan.threads) {
    const ThreadEntry& t = *p.thread;
    if (p.flags & thread_write::kStack) {
      auto [lo, hi] = stack_bounds(snapshot, options, t);
      plan.memory.add(lo, hi);
    }
    if (p.flags & thread_write::kInstructionWindow) {
      // The code around the instruction pointer, for disassembly at the stop.
      if (const Region* r = find_region(regions, t.regs.rip); r && readable(*r)) {
        add_clipped(plan.memory, *r, t.regs.rip - std::min<uint64_t>(t.regs.rip, options.instruction_window),
                    t.regs.rip + options.instruction_window);
      }
    }
    if ((p.flags & thread_write::kThreadData) && t.regs.fs_base) {
      // The Linux TEB: glibc's thread control block at fs_base, with static TLS just below it.
      if (const Region* r = find_region(regions, t.regs.fs_base); r && readable(*r)) {
        add_clipped(plan.memory, *r, (t.regs.fs_base & ~uint64_t{4095}) - 4096, (t.regs.fs_base & ~uint64_t{4095}) + 8192);
      }
    }
  }
  // A full-memory dump has every byte in its Memory64List; its MemoryList keeps only the
  // stacks and instruction windows, for readers that do not read Memory64List (Breakpad).
  if (type & dump::kWithFullMemory) return;

  for (const PlannedModule& m : plan.modules) {
    bool headers = type & dump::kWithModuleHeaders;
    for (const Region* r : module_regions(snapshot, m)) {
      if (!readable(*r)) continue;
      bool data = r->prot & PROT_WRITE;
      if ((data && (m.flags & module_write::kDataSeg)) || (!data && (m.flags & module_write::kCodeSegs))) {
        plan.memory.add(r->start, r->end);
      }
      if (headers && r == m.region) {
        // The ELF header and program headers: the first page of the image.
        add_clipped(plan.memory, *r, r->start, r->start + 4096);
      }
    }
  }
  for (const Region& r : regions) {
    if (!readable(r)) continue;
    uint32_t protect = region_info(r, r.start).protect;
    bool private_rw = (type & dump::kWithPrivateReadWriteMemory) && !r.shared && protect == format::page::kReadWrite;
    bool write_copy = (type & dump::kWithPrivateWriteCopyMemory) &&
                      (protect == format::page::kWriteCopy || protect == format::page::kExecuteWriteCopy);
    if (!private_rw && !write_copy) continue;
    // Anonymous memory counts only where its pages exist: untouched pages of a reservation are
    // what Windows calls reserved, never committed, and a sanitizer's shadow region is terabytes
    // of them. File-backed pages exist in their file whether or not they were touched.
    auto populated = anonymous_memory(r) ? snapshot.populated(r.start, r.end) : std::nullopt;
    if (!populated) {
      plan.memory.add(r.start, r.end);
      continue;
    }
    for (const auto& [lo, hi] : *populated) plan.memory.add(lo, hi);
  }
  if (type & dump::kWithIndirectlyReferencedMemory) {
    RangeSet indirect;
    uint64_t taken = 0;  // an upper bound of indirect.total(), cheap to keep
    for_each_stack_word(snapshot, options, plan, reader, [&](uint64_t word) {
      if (taken >= kIndirectLimit) return;
      const Region* r = find_region(regions, word);
      // Data a local points at: code needs no copy here (it is in the module's file).
      if (!r || !readable(*r) || (r->prot & PROT_EXEC)) return;
      add_clipped(indirect, *r, word - std::min(word, kIndirectBefore), word + kIndirectAfter);
      taken += kIndirectBefore + kIndirectAfter;
    });
    for (const auto& [lo, hi] : indirect.ranges()) plan.memory.add(lo, hi);
  }
}

void filter_stack_words(const Snapshot& snapshot, uint64_t address, std::span<uint8_t> bytes) {
  const auto& regions = snapshot.memory_map();
  size_t skip = (8 - address % 8) % 8;  // words are aligned in the address space
  for (size_t i = skip; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    const Region* r = word ? find_region(regions, word) : nullptr;
    bool keep = r && ((r->prot & PROT_EXEC) || in_any_stack(snapshot, word));
    if (!keep) std::memset(bytes.data() + i, 0, 8);
  }
  std::memset(bytes.data(), 0, std::min(skip, bytes.size()));
}

}  // namespace snapdump::writer
