// MemoryList (the plan's ranges: stacks, instruction windows and what the flags and callbacks
// added) and the full-memory Memory64List, whose bytes are streamed from the snapshot to the
// sink after everything else. The MemoryInfoList is in memory_info_list.cpp.
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "writer/memory64.h"
#include "writer/memory_selection.h"
#include "writer/streams.h"
#include "writer/write_front_order.h"

namespace snapdump::writer {
namespace {

constexpr uint64_t kPage = 4096;


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
// false to leave the region out (size 0). `ask` goes false once the callback wants no more calls.
bool ask_vm_region(WriteContext& ctx, bool& ask, const VmRegionInfo& base, uint64_t& start, uint64_t& end) {
  if (!ask) return true;
  VmRegionInfo answer = base;
  answer.base = start;
  answer.size = end - start;
  if (!ctx.steering->include_vm_region(answer)) {
    ask = false;  // no more calls; this region and the rest are written whole
    return true;
  }
  uint64_t lo = std::clamp(answer.base & ~(kPage - 1), start, end);
  uint64_t hi = std::clamp((answer.base + answer.size + kPage - 1) & ~(kPage - 1), lo, end);
  if (answer.size == 0) return false;
  start = lo;
  end = hi;
  return start < end;
}

struct Memory64Region {
  uint64_t start = 0, end = 0;  // as IncludeVmRegionCallback's first answer left it
  VmRegionInfo info;
  // Anonymous private memory: the runs whose pages exist (present or swapped); only those are
  // written. Unset: the whole region.
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated;
  bool shared_with_clone = false;  // private anonymous memory the clone shares with the target
};

// With release_written_memory: the pieces from the target's write front (write_front_order.h).
// The descriptors then list the ranges in that order, the bytes lying back to back as ever:
// Memory64List does not ask for address order, and the readers tested map each range by its own
// descriptor (LLDB, Breakpad, snapdump's own reader).
void order_from_write_front(WriteContext& ctx, Memory64Plan& plan,
                            std::vector<std::pair<uint64_t, uint64_t>> candidates) {
  if (!ctx.options.release_written_memory || !ctx.options.follow_write_front) return;
  std::optional<uint64_t> front = look_for_write_front(
      [&](auto ranges, uint64_t pages) { return ctx.snapshot.write_front(ranges, pages); }, candidates);
  if (front) plan.write_front = start_at_write_front(plan.pieces, *front);
  // A file's table is filled in as its bytes are written: it can still change course once the
  // writing has begun (stream_memory64 looks again).
  if (!plan.write_front && !plan.forward_only) plan.later_looks = std::move(candidates);
}

}  // namespace

Memory64Plan plan_memory64(WriteContext& ctx, bool forward_only) {
  Memory64Plan plan;
  plan.forward_only = forward_only;
  std::vector<Memory64Region> regions;
  bool ask = true;
  const auto& map = ctx.snapshot.memory_map();
  for (size_t i = 0; i < map.size(); ++i) {
    const VmRegionInfo& info = ctx.plan.regions[i];
    if (!readable(map[i]) || info.protect == format::page::kNoAccess || (info.protect & format::page::kGuard) ||
        info.size == 0) {
      continue;
    }
    uint64_t start = info.base, end = info.base + info.size;
    if (!ask_vm_region(ctx, ask, info, start, end)) continue;
    Memory64Region region{start, end, info, std::nullopt};
    // Untouched anonymous pages are reserved, not committed, in Windows' words: a full dump has
    // none of them (a thread's 8 MiB stack is mostly such pages, an ASan shadow terabytes).
    // Regions copied during the pause have their bytes in the snapshot, whatever the clone has.
    const Region& r = map[i];
    if (anonymous_memory(r) && r.copy != RegionCopy::copied_in_pause) region.populated = ctx.snapshot.populated(start, end);
    region.shared_with_clone = anonymous_memory(r) && r.copy == RegionCopy::clone;
    regions.push_back(std::move(region));
  }
  // The second call per region, for every region before any is written: a stream's table
  // must be final before its first byte.
  ask = true;
  std::vector<std::pair<uint64_t, uint64_t>> shared_with_clone;
  for (const Memory64Region& e : regions) {
    uint64_t start = e.start, end = e.end;
    if (!ask_vm_region(ctx, ask, e.info, start, end)) continue;
    size_t first = plan.pieces.size();
    if (!e.populated) {
      plan.pieces.push_back({start, end, false});
    } else {
      for (const auto& [lo, hi] : *e.populated) {
        if (std::max(lo, start) < std::min(hi, end)) plan.pieces.push_back({std::max(lo, start), std::min(hi, end), false});
      }
    }
    if (plan.pieces.size() > first) plan.pieces.back().ends_region = true;
    if (e.shared_with_clone) {
      for (size_t i = first; i < plan.pieces.size(); ++i) shared_with_clone.emplace_back(plan.pieces[i].start, plan.pieces[i].end);
    }
  }
  // Before the table is sized: the front may cut a piece in two.
  order_from_write_front(ctx, plan, shared_with_clone);
  // MiniDumpScanInaccessiblePartialPages may split a piece at each unreadable page: room for
  // that many more descriptors in a file (beyond it, the rest of such a piece is left out).
  bool scan = ctx.options.type & dump::kScanInaccessiblePartialPages;
  // A later look that finds the front cuts two pieces: the one being written, and the front's.
  plan.slots = static_cast<uint32_t>(plan.pieces.size() + (scan && !forward_only ? 4096 : 0) +
                                     (plan.later_looks.empty() ? 0 : 2));
  size_t size = sizeof(format::Memory64ListHeader) + plan.slots * sizeof(format::MemoryDescriptor64);
  plan.rva = ctx.builder.reserve(size, 8);
  ctx.builder.add_stream(format::StreamType::Memory64List, plan.rva, static_cast<uint32_t>(size));
  return plan;
}

void seal_memory64_table(WriteContext& ctx, Memory64Plan& plan) {
  if (!plan.forward_only) return;
  plan.base_rva = ctx.builder.size();
  ctx.builder.patch(plan.rva, format::Memory64ListHeader{plan.pieces.size(), plan.base_rva});
  uint32_t at = plan.rva + sizeof(format::Memory64ListHeader);
  for (const Memory64Plan::Piece& p : plan.pieces) {
    ctx.builder.patch(at, format::MemoryDescriptor64{p.start, p.end - p.start});
    at += sizeof(format::MemoryDescriptor64);
  }
}

uint32_t stream_memory64(WriteContext& ctx, Sink& sink, Memory64Plan& plan, uint64_t& zero_filled) {
  // Descriptors list the data contiguously in order. In a file, a piece that turns out partly
  // unreadable is cut at the first unreadable byte (or, scanning partial pages, resumes after
  // it); in a stream, whose table is already written, those bytes are zeros.
  std::vector<format::MemoryDescriptor64> descriptors;
  bool forward = plan.forward_only;
  if (forward && sink.size() != plan.base_rva) {
    throw Error(Errc::internal, fmt::format("Memory64List data planned at {:#x}, stream at {:#x}", plan.base_rva, sink.size()));
  }
  sink.align_for_bulk();
  BulkBuffer chunk = sink.bulk_buffer();
  bool scan = ctx.options.type & dump::kScanInaccessiblePartialPages;
  bool filter = ctx.options.type & dump::kFilterMemory;
  RangeSet stacks = filter ? stack_ranges(ctx) : RangeSet();
  uint64_t base = sink.size();
  uint64_t since_cancel = 0;
  auto room = [&] { return forward || descriptors.size() < plan.slots; };
  // A stream cannot take back what it sent: before its last bytes it checks that the memory it
  // read is still the captured point in time (a held target alive and held, the clone alive), so
  // that a broken one ends short and reads as truncated instead of whole.
  const uint64_t last_end = plan.pieces.empty() ? 0 : plan.pieces.back().end;
  bool in_last_piece = false;  // the pieces need not be in address order (order_from_write_front)
  auto before_last = [&](uint64_t upto) {
    if (forward && in_last_piece && upto >= last_end) ctx.snapshot.check_intact();
  };
  // Zeros for [at, to) of a stream.
  auto fill = [&](uint64_t at, uint64_t to) {
    zero_filled += to - at;
    while (at < to) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), to - at));
      std::memset(chunk.data(), 0, n);
      before_last(at + n);
      chunk = sink.append_bulk(std::move(chunk), n);
      at += n;
    }
  };
  // A file whose order was not changed at the plan looks again for the write front after 32 and
  // 128 MiB (a target's first writes after the fork can take tens of milliseconds on a VM that
  // pays for every page-table change, and then it has left no trail yet). A front found stops
  // the current piece there; the rest is reordered by the loop below.
  uint64_t streamed = 0, next_look = 32u << 20;
  int looks_left = plan.later_looks.empty() ? 0 : 2;
  std::optional<uint64_t> found;
  // Only what is not written yet: a range the clone has let go of is the target's alone again,
  // which looks like a trail of writes.
  auto look_again = [&](uint64_t from) {
    if (looks_left == 0 || streamed < next_look) return false;
    --looks_left;
    next_look = 128u << 20;
    std::vector<std::pair<uint64_t, uint64_t>> ahead;
    for (auto [lo, hi] : plan.later_looks) {
      if (hi > from) ahead.emplace_back(std::max(lo, from), hi);
    }
    found = ctx.snapshot.write_front(ahead, kWriteFrontPages);
    return found.has_value();
  };
  auto write_piece = [&](uint64_t start, uint64_t end) -> uint64_t {
    uint64_t at = start, run = start;
    while (at < end && room()) {
      if (look_again(at)) break;
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), end - at));
      size_t got = ctx.reader.read(at, std::span<uint8_t>(chunk.data(), want), ReadPurpose::dump);
      if (filter) filter_stacks(ctx, stacks, at, std::span<uint8_t>(chunk.data(), got));
      if (got > 0) {
        before_last(at + got);
        chunk = sink.append_bulk(std::move(chunk), got);
        // The bytes are in the writer's buffer now: the clone may let go of them.
        if (ctx.options.release_written_memory) ctx.snapshot.release_memory(at, at + got);
      }
      at += got;
      ctx.memory_bytes += got;
      streamed += got;
      since_cancel += got;
      if (since_cancel >= (64u << 20)) {
        ctx.steering.check_cancel("writing full memory");
        since_cancel = 0;
      }
      if (got == want) continue;
      uint64_t resume = scan ? std::min(end, (at + kPage) & ~(kPage - 1)) : end;
      if (forward) {
        fill(at, resume);
      } else if (at > run) {
        descriptors.push_back({run, at - run});
      }
      run = at = resume;
    }
    if (!forward && at > run && room()) descriptors.push_back({run, at - run});
    return at;
  };
  for (size_t i = 0; i < plan.pieces.size(); ++i) {
    Memory64Plan::Piece p = plan.pieces[i];
    in_last_piece = i + 1 == plan.pieces.size();
    uint64_t stopped = write_piece(p.start, p.end);
    if (found) {
      // What is left, from the piece cut short on, starts at the front and wraps round to here.
      std::vector<Memory64Plan::Piece> rest;
      if (stopped < p.end) rest.push_back({stopped, p.end, p.ends_region});
      rest.insert(rest.end(), plan.pieces.begin() + static_cast<ptrdiff_t>(i) + 1, plan.pieces.end());
      plan.pieces.resize(i + 1);
      plan.pieces[i].end = stopped;
      plan.write_front = start_at_write_front(rest, *found);
      plan.pieces.insert(plan.pieces.end(), rest.begin(), rest.end());
      found.reset();
      looks_left = 0;
      continue;
    }
    if (p.ends_region) ctx.steering.check_cancel("writing full memory");
  }
  if (ctx.options.release_written_memory) ctx.snapshot.release_memory(0, 0);  // the last batch
  if (forward) {
    for (const Memory64Plan::Piece& p : plan.pieces) plan.written.emplace_back(p.start, p.end);
    std::sort(plan.written.begin(), plan.written.end());
    return static_cast<uint32_t>(sizeof(format::Memory64ListHeader) + plan.pieces.size() * sizeof(format::MemoryDescriptor64));
  }
  for (const format::MemoryDescriptor64& d : descriptors) {
    plan.written.emplace_back(d.start_of_memory_range, d.start_of_memory_range + d.data_size);
  }
  std::sort(plan.written.begin(), plan.written.end());
  format::Memory64ListHeader h{descriptors.size(), base};
  sink.write_at(plan.rva, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
  sink.write_at(plan.rva + sizeof h, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(descriptors.data()),
                                                              descriptors.size() * sizeof(format::MemoryDescriptor64)));
  return static_cast<uint32_t>(sizeof h + descriptors.size() * sizeof(format::MemoryDescriptor64));
}

}  // namespace snapdump::writer
