// MemoryInfoList: the regions of the plan, split where the dump's memory ranges begin and end.
#include "writer/memory_info_list.h"

#include <algorithm>

#include <fmt/format.h>

#include "snapdump/error.h"

namespace snapdump::writer {

std::vector<VmRegionInfo> split_at_held_edges(std::span<const VmRegionInfo> regions,
                                              std::span<const std::pair<uint64_t, uint64_t>> held) {
  std::vector<uint64_t> edges;
  edges.reserve(held.size() * 2);
  for (const auto& [lo, hi] : held) {
    edges.push_back(lo);
    edges.push_back(hi);
  }
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());

  std::vector<VmRegionInfo> out;
  out.reserve(regions.size());
  for (const VmRegionInfo& r : regions) {
    uint64_t at = r.base, end = r.base + r.size;
    for (auto e = std::upper_bound(edges.begin(), edges.end(), at); e != edges.end() && *e < end; ++e) {
      VmRegionInfo piece = r;
      piece.base = at;
      piece.size = *e - at;
      out.push_back(piece);
      at = *e;
    }
    VmRegionInfo last = r;
    last.base = at;
    last.size = end - at;
    out.push_back(last);
  }
  return out;
}

std::vector<format::MemoryInfo> memory_info_entries(std::span<const VmRegionInfo> regions) {
  std::vector<format::MemoryInfo> out;
  out.reserve(regions.size());
  for (const VmRegionInfo& r : regions) {
    format::MemoryInfo i{};
    i.base_address = r.base;
    i.allocation_base = r.allocation_base;
    i.allocation_protect = r.allocation_protect;
    i.region_size = r.size;
    i.state = r.state;
    i.protect = r.protect;
    i.type = r.type;
    out.push_back(i);
  }
  return out;
}

namespace {

// The MemoryList's ranges, as write_memory_list wrote them (a range it could read only in part
// is there as the parts it read).
std::vector<std::pair<uint64_t, uint64_t>> memory_list_ranges(const WriteContext& ctx) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  out.reserve(ctx.memory.size());
  for (const CopiedRange& c : ctx.memory) out.emplace_back(c.address, c.address + c.size);
  return out;
}

}  // namespace

MemoryInfoTable write_memory_info_list(WriteContext& ctx, const Memory64Plan* memory64) {
  MemoryInfoTable table;
  std::vector<std::pair<uint64_t, uint64_t>> held = memory_list_ranges(ctx);
  // A stream's Memory64List holds exactly its planned pieces (zeros where a read fails): the
  // table is final now, and must be, since nothing can be patched once the image is sent.
  if (memory64 && memory64->forward_only) {
    for (const Memory64Plan::Piece& p : memory64->pieces) held.emplace_back(p.start, p.end);
  }
  if (!memory64 || memory64->forward_only) {
    std::vector<format::MemoryInfo> infos = memory_info_entries(split_at_held_edges(ctx.plan.regions, held));
    format::MemoryInfoListHeader h{sizeof h, sizeof(format::MemoryInfo), infos.size()};
    table.rva = ctx.builder.append(h);
    ctx.builder.append(infos.data(), infos.size() * sizeof(format::MemoryInfo));
    table.capacity = static_cast<uint32_t>(infos.size());
    ctx.builder.add_stream(format::StreamType::MemoryInfoList, table.rva,
                           static_cast<uint32_t>(sizeof h + infos.size() * sizeof(format::MemoryInfo)));
    return table;
  }
  // Each range cuts at most two entries in two: room for every range the Memory64List can hold
  // (its reserved slots) besides the MemoryList's.
  table.deferred = true;
  table.capacity = static_cast<uint32_t>(ctx.plan.regions.size() + 2 * (held.size() + memory64->slots));
  uint32_t size = static_cast<uint32_t>(sizeof(format::MemoryInfoListHeader) + table.capacity * sizeof(format::MemoryInfo));
  table.rva = ctx.builder.reserve(size, 8);
  ctx.builder.add_stream(format::StreamType::MemoryInfoList, table.rva, size);
  return table;
}

uint32_t finish_memory_info_list(WriteContext& ctx, Sink& sink, const MemoryInfoTable& table,
                                 const Memory64Plan& memory64) {
  std::vector<std::pair<uint64_t, uint64_t>> held = memory_list_ranges(ctx);
  held.insert(held.end(), memory64.written.begin(), memory64.written.end());
  std::vector<format::MemoryInfo> infos = memory_info_entries(split_at_held_edges(ctx.plan.regions, held));
  if (infos.size() > table.capacity) {
    throw Error(Errc::internal, fmt::format("MemoryInfoList: {} entries for a table of {}", infos.size(), table.capacity));
  }
  format::MemoryInfoListHeader h{sizeof h, sizeof(format::MemoryInfo), infos.size()};
  sink.write_at(table.rva, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&h), sizeof h));
  sink.write_at(table.rva + sizeof h, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(infos.data()),
                                                               infos.size() * sizeof(format::MemoryInfo)));
  return static_cast<uint32_t>(sizeof h + infos.size() * sizeof(format::MemoryInfo));
}

}  // namespace snapdump::writer
