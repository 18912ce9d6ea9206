// MemoryList (the plan's ranges: stacks, instruction windows and what the flags and callbacks
// added) and the full-memory Memory64List, whose bytes are streamed from the snapshot to the
// sink after everything else. The MemoryInfoList is in memory_info_list.cpp.
#include <sys/mman.h>

#include <algorithm>
#include <vector>

#include "writer/memory64.h"
#include "writer/memory_selection.h"
#include "writer/streams.h"

namespace snapdump::writer {
namespace {

constexpr uint64_t kPage = 4096;

bool readable(const Region& r) { return r.copy != RegionCopy::unreadable && (r.prot & PROT_READ) && !r.io; }

// Reads [lo, hi) as far as it can be read, calling `emit` for each readable run. A read that
// fails (and is not fatal) resumes at the next page.
template <class Emit>
void read_runs(WriteContext& ctx, uint64_t lo, uint64_t hi, ReadPurpose purpose, std::vector<uint8_t>& buffer,
               Emit emit) {
  // At most 4 MiB at a time: a range can be as large as the address space allows.
  constexpr uint64_t kChunk = 4u << 20;
  uint64_t at = lo;
  while (at < hi) {
    buffer.resize(static_cast<size_t>(std::min(hi - at, kChunk)));
    size_t got = ctx.reader.read(at, buffer, purpose);
    if (got > 0) emit(at, std::span<uint8_t>(buffer.data(), got));
    at += got;
    if (got == buffer.size()) continue;
    if (at < hi) at = std::min(hi, (at + kPage) & ~(kPage - 1));
  }
}

// The stack bytes the planned threads write.
RangeSet stack_ranges(const WriteContext& ctx) {
  RangeSet stacks;
  for (const PlannedThread& p : ctx.plan.threads) {
    if (!(p.flags & thread_write::kStack)) continue;
    auto [lo, hi] = stack_bounds(ctx.snapshot, ctx.options, *p.thread);
    stacks.add(lo, hi);
  }
  return stacks;
}

// MiniDumpFilterMemory on bytes read at `address`: the parts that are stack are filtered.
void filter_stacks(const WriteContext& ctx, const RangeSet& stacks, uint64_t address, std::span<uint8_t> bytes) {
  for (const auto& [lo, hi] : stacks.ranges()) {
    uint64_t from = std::max(lo, address), to = std::min(hi, address + bytes.size());
    if (from < to) filter_stack_words(ctx.snapshot, from, bytes.subspan(from - address, to - from));
  }
}

}  // namespace

void write_memory_list(WriteContext& ctx) {
  // Stack bytes are the ones a dump cannot do without: a failure there fails the dump.
  RangeSet stacks = stack_ranges(ctx);
  bool filter = ctx.options.type & dump::kFilterMemory;
  std::vector<format::MemoryDescriptor> descriptors;
  std::vector<uint8_t> buffer;
  auto emit = [&](uint64_t address, std::span<uint8_t> bytes) {
    if (filter) filter_stacks(ctx, stacks, address, bytes);
    uint32_t rva = ctx.builder.append(bytes.data(), bytes.size(), 16);
    uint32_t size = static_cast<uint32_t>(bytes.size());
    ctx.memory_bytes += size;
    // Chunks of one range land back to back in the file: keep them one descriptor, so a
    // thread's stack is one piece for readers that take it from the thread's descriptor.
    if (!descriptors.empty()) {
      format::MemoryDescriptor& last = descriptors.back();
      if (last.start_of_memory_range + last.memory.data_size == address &&
          uint64_t{last.memory.rva} + last.memory.data_size == rva &&
          uint64_t{last.memory.data_size} + size <= 0xffffffffu) {
        last.memory.data_size += size;
        ctx.memory.back().size += size;
        return;
      }
    }
    descriptors.push_back({address, {size, rva}});
    ctx.memory.push_back({address, size, rva});
  };
  for (const auto& [lo, hi] : ctx.plan.memory.ranges()) {
    // Split at stack boundaries so each piece is read with its own failure rule.
    uint64_t at = lo;
    while (at < hi) {
      bool in_stack = stacks.contains(at);
      uint64_t next = hi;
      for (const auto& [s_lo, s_hi] : stacks.ranges()) {
        if (s_lo > at && s_lo < next) next = s_lo;
        if (s_hi > at && s_hi < next && in_stack) next = s_hi;
      }
      read_runs(ctx, at, next, in_stack ? ReadPurpose::stack : ReadPurpose::dump, buffer, emit);
      at = next;
    }
    ctx.steering.check_cancel("writing the memory list");
  }
  ctx.builder.add_list_stream(format::StreamType::MemoryList, descriptors);
}

namespace {

// IncludeVmRegionCallback: narrows [start, end) to the answer, a page-aligned subset. Returns
// false to leave the region out (size 0).
bool ask_vm_region(WriteContext& ctx, Memory64Plan& plan, const VmRegionInfo& base, uint64_t& start, uint64_t& end) {
  if (!plan.ask) return true;
  VmRegionInfo answer = base;
  answer.base = start;
  answer.size = end - start;
  if (!ctx.steering->include_vm_region(answer)) {
    plan.ask = false;  // no more calls; this region and the rest are written whole
    return true;
  }
  uint64_t lo = std::clamp(answer.base & ~(kPage - 1), start, end);
  uint64_t hi = std::clamp((answer.base + answer.size + kPage - 1) & ~(kPage - 1), lo, end);
  if (answer.size == 0) return false;
  start = lo;
  end = hi;
  return start < end;
}

}  // namespace

Memory64Plan reserve_memory64(WriteContext& ctx) {
  Memory64Plan plan;
  const auto& map = ctx.snapshot.memory_map();
  for (size_t i = 0; i < map.size(); ++i) {
    const VmRegionInfo& info = ctx.plan.regions[i];
    if (!readable(map[i]) || info.protect == format::page::kNoAccess || (info.protect & format::page::kGuard) ||
        info.size == 0) {
      continue;
    }
    uint64_t start = info.base, end = info.base + info.size;
    if (!ask_vm_region(ctx, plan, info, start, end)) continue;
    Memory64Plan::Entry entry{start, end, info, std::nullopt};
    // Untouched anonymous pages are reserved, not committed, in Windows' words: a full dump has
    // none of them (a thread's 8 MiB stack is mostly such pages, an ASan shadow terabytes).
    // Regions copied during the pause have their bytes in the snapshot, whatever the clone has.
    const Region& r = map[i];
    if (r.inode == 0 && !r.shared && r.copy != RegionCopy::copied_in_pause) entry.populated = ctx.snapshot.populated(start, end);
    plan.regions.push_back(std::move(entry));
  }
  // MiniDumpScanInaccessiblePartialPages may split a region at each unreadable page: room for
  // that many more descriptors (beyond it, the rest of such a region is left out).
  bool scan = ctx.options.type & dump::kScanInaccessiblePartialPages;
  size_t pieces = 0;
  for (const Memory64Plan::Entry& e : plan.regions) pieces += e.populated ? e.populated->size() : 1;
  plan.slots = static_cast<uint32_t>(pieces + (scan ? 4096 : 0));
  size_t size = sizeof(format::Memory64ListHeader) + plan.slots * sizeof(format::MemoryDescriptor64);
  plan.rva = ctx.builder.reserve(size, 8);
  ctx.builder.add_stream(format::StreamType::Memory64List, plan.rva, static_cast<uint32_t>(size));
  return plan;
}

uint32_t stream_memory64(WriteContext& ctx, Sink& sink, Memory64Plan& plan) {
  // Descriptors list the data contiguously in order. A region that turns out partly unreadable
  // is cut at the first unreadable byte (or, scanning partial pages, resumes after it).
  std::vector<format::MemoryDescriptor64> descriptors;
  sink.align_for_bulk();
  BulkBuffer chunk = sink.bulk_buffer();
  bool scan = ctx.options.type & dump::kScanInaccessiblePartialPages;
  bool filter = ctx.options.type & dump::kFilterMemory;
  RangeSet stacks = filter ? stack_ranges(ctx) : RangeSet();
  uint64_t base = sink.size();
  uint64_t since_cancel = 0;
  plan.ask = true;  // the second call per region
  // One piece of a region: read and appended chunk by chunk; a region that turns out partly
  // unreadable is cut at the first unreadable byte (or, scanning partial pages, resumes after it).
  auto write_piece = [&](uint64_t start, uint64_t end) {
    uint64_t at = start, run = start;
    while (at < end && descriptors.size() < plan.slots) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), end - at));
      size_t got = ctx.reader.read(at, std::span<uint8_t>(chunk.data(), want), ReadPurpose::dump);
      if (filter) filter_stacks(ctx, stacks, at, std::span<uint8_t>(chunk.data(), got));
      if (got > 0) chunk = sink.append_bulk(std::move(chunk), got);
      at += got;
      since_cancel += got;
      if (since_cancel >= (64u << 20)) {
        ctx.steering.check_cancel("writing full memory");
        since_cancel = 0;
      }
      if (got == want) continue;
      if (at > run) descriptors.push_back({run, at - run});
      ctx.memory_bytes += at - run;
      if (!scan) {
        run = at = end;
        break;
      }
      run = at = std::min(end, (at + kPage) & ~(kPage - 1));
    }
    if (at > run && descriptors.size() < plan.slots) {
      descriptors.push_back({run, at - run});
      ctx.memory_bytes += at - run;
    }
  };
  for (Memory64Plan::Entry& e : plan.regions) {
    uint64_t start = e.start, end = e.end;
    if (!ask_vm_region(ctx, plan, e.info, start, end)) continue;
    if (!e.populated) {
      write_piece(start, end);
    } else {
      for (const auto& [lo, hi] : *e.populated) {
        if (std::max(lo, start) < std::min(hi, end)) write_piece(std::max(lo, start), std::min(hi, end));
      }
    }
    ctx.steering.check_cancel("writing full memory");
  }
  for (const format::MemoryDescriptor64& d : descriptors) {
    plan.written.emplace_back(d.start_of_memory_range, d.start_of_memory_range + d.data_size);
  }
  format::Memory64ListHeader h{descriptors.size(), base};
  sink.write_at(plan.rva, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
  sink.write_at(plan.rva + sizeof h, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(descriptors.data()),
                                                              descriptors.size() * sizeof(format::MemoryDescriptor64)));
  return static_cast<uint32_t>(sizeof h + descriptors.size() * sizeof(format::MemoryDescriptor64));
}

}  // namespace snapdump::writer
