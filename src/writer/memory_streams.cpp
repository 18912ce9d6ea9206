// MemoryList (stacks and instruction windows), MemoryInfoList and the full-memory
// Memory64List, whose bytes are streamed from the snapshot to the file after everything else.
#include <sys/mman.h>

#include <algorithm>
#include <vector>

#include "writer/memory64.h"
#include "writer/streams.h"

namespace snapdump::writer {
namespace {

bool readable(const Region& r) { return r.copy != RegionCopy::unreadable && (r.prot & PROT_READ); }

}  // namespace

uint32_t page_protection(const Region& r) {
  bool read = r.prot & PROT_READ, write = r.prot & PROT_WRITE, exec = r.prot & PROT_EXEC;
  // A private writable file mapping is copy-on-write: Windows calls that WRITECOPY.
  bool copy_on_write = write && !r.shared && !r.path.empty() && r.path[0] == '/';
  if (exec) {
    if (write) return copy_on_write ? format::page::kExecuteWriteCopy : format::page::kExecuteReadWrite;
    return read ? format::page::kExecuteRead : format::page::kExecute;
  }
  if (write) return copy_on_write ? format::page::kWriteCopy : format::page::kReadWrite;
  return read ? format::page::kReadOnly : format::page::kNoAccess;
}

void write_memory_list(WriteContext& ctx) {
  const auto& regions = ctx.snapshot.memory_map();
  std::vector<std::pair<uint64_t, uint64_t>> wanted;
  for (const ThreadEntry& t : ctx.snapshot.threads()) {
    if (t.capture == ThreadCapture::exited || t.regs.rsp == 0) continue;
    // The stack in use, from below the red zone to the top of its mapping.
    if (const Region* r = find_region(regions, t.regs.rsp); r && readable(*r)) {
      uint64_t lo = std::max<uint64_t>(r->start, t.regs.rsp - std::min<uint64_t>(t.regs.rsp, 128));
      uint64_t hi = std::min<uint64_t>(r->end, lo + ctx.options.max_stack_bytes);
      wanted.emplace_back(lo, hi);
    }
    // The instruction window: the code around rip, for disassembly at the stop.
    if (const Region* r = find_region(regions, t.regs.rip); r && readable(*r)) {
      uint64_t w = ctx.options.instruction_window;
      wanted.emplace_back(std::max<uint64_t>(r->start, t.regs.rip - std::min<uint64_t>(t.regs.rip, w)),
                          std::min<uint64_t>(r->end, t.regs.rip + w));
    }
  }
  // Readers keep memory in range maps that refuse overlaps: merge first.
  std::sort(wanted.begin(), wanted.end());
  std::vector<std::pair<uint64_t, uint64_t>> merged;
  for (const auto& w : wanted) {
    if (!merged.empty() && w.first <= merged.back().second) {
      merged.back().second = std::max(merged.back().second, w.second);
    } else {
      merged.push_back(w);
    }
  }
  std::vector<format::MemoryDescriptor> descriptors;
  std::vector<uint8_t> bytes;
  for (const auto& [lo, hi] : merged) {
    bytes.resize(hi - lo);
    size_t got = ctx.snapshot.read_memory(lo, bytes);
    if (got == 0) continue;
    uint32_t rva = ctx.builder.append(bytes.data(), got, 16);
    descriptors.push_back({lo, {static_cast<uint32_t>(got), rva}});
    ctx.memory.push_back({lo, static_cast<uint32_t>(got), rva});
    ctx.memory_bytes += got;
  }
  ctx.builder.add_list_stream(format::StreamType::MemoryList, descriptors);
}

void write_memory_info_list(WriteContext& ctx) {
  std::vector<format::MemoryInfo> infos;
  uint64_t image_base = 0;
  for (const Region& r : ctx.snapshot.memory_map()) {
    format::MemoryInfo i{};
    i.base_address = r.start;
    if (r.elf) image_base = r.start;
    // A module's mappings share one allocation base, as the sections of a Windows image do.
    i.allocation_base = r.type == RegionType::image && image_base ? image_base : r.start;
    i.region_size = r.end - r.start;
    i.state = format::mem::kCommit;
    i.protect = page_protection(r);
    i.allocation_protect = i.protect;
    i.type = r.type == RegionType::image    ? format::mem::kImage
             : r.type == RegionType::mapped ? format::mem::kMapped
                                            : format::mem::kPrivate;
    infos.push_back(i);
  }
  format::MemoryInfoListHeader h{sizeof h, sizeof(format::MemoryInfo), infos.size()};
  uint32_t rva = ctx.builder.append(h);
  ctx.builder.append(infos.data(), infos.size() * sizeof(format::MemoryInfo));
  ctx.builder.add_stream(format::StreamType::MemoryInfoList, rva,
                         static_cast<uint32_t>(sizeof h + infos.size() * sizeof(format::MemoryInfo)));
}

Memory64Plan reserve_memory64(WriteContext& ctx) {
  Memory64Plan plan;
  for (const Region& r : ctx.snapshot.memory_map()) {
    if (readable(r) && !r.io) plan.regions.emplace_back(r.start, r.end);
  }
  size_t size = sizeof(format::Memory64ListHeader) + plan.regions.size() * sizeof(format::MemoryDescriptor64);
  plan.rva = ctx.builder.reserve(size, 8);
  ctx.builder.add_stream(format::StreamType::Memory64List, plan.rva, static_cast<uint32_t>(size));
  return plan;
}

uint32_t stream_memory64(WriteContext& ctx, FileSink& sink, const Memory64Plan& plan) {
  // Descriptors must list the data contiguously in order; a region that turns out partly
  // unreadable is cut at the first unreadable byte, and one with nothing readable is left out.
  std::vector<format::MemoryDescriptor64> descriptors;
  std::vector<uint8_t> chunk(1 << 20);
  uint64_t base = sink.size();
  for (const auto& [start, end] : plan.regions) {
    uint64_t at = start;
    while (at < end) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), end - at));
      size_t got = ctx.snapshot.read_memory(at, std::span<uint8_t>(chunk.data(), want));
      if (got > 0) sink.append(std::span<const uint8_t>(chunk.data(), got));
      at += got;
      if (got < want) break;
    }
    if (at > start) descriptors.push_back({start, at - start});
    ctx.memory_bytes += at - start;
  }
  format::Memory64ListHeader h{descriptors.size(), base};
  sink.write_at(plan.rva, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
  sink.write_at(plan.rva + sizeof h, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(descriptors.data()),
                                                              descriptors.size() * sizeof(format::MemoryDescriptor64)));
  return static_cast<uint32_t>(sizeof h + descriptors.size() * sizeof(format::MemoryDescriptor64));
}

}  // namespace snapdump::writer
