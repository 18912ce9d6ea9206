// MemoryList, Memory64List (whose ranges lie back to back from one BaseRva, so each offset is
// a running sum that must be checked for wrap) and MemoryInfoList.
#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

namespace {

void memory_list(const Context& ctx, std::vector<MemoryRange>& out) {
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::MemoryList));
  if (!stream) return;
  auto layout = counted_list(ctx, *stream, sizeof(format::MemoryDescriptor), "MemoryList");
  if (!layout) return;
  for (uint64_t i = 0; i < layout->count; ++i) {
    auto d = load<format::MemoryDescriptor>(*stream, layout->offset + i * layout->stride);
    if (!d) break;
    auto bytes = ctx.location(
        d->memory, fmt::format("MemoryList: range {} ({:#x})", i, d->start_of_memory_range));
    if (bytes) out.push_back({d->start_of_memory_range, *bytes, false});
  }
}

void memory64_list(const Context& ctx, std::vector<MemoryRange>& out) {
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::Memory64List));
  if (!stream) return;
  auto h = load<format::Memory64ListHeader>(*stream, 0);
  if (!h) {
    ctx.problem(fmt::format("Memory64List: stream of {} bytes is too small for its header",
                            stream->size()));
    return;
  }
  const uint64_t fits = (stream->size() - sizeof(*h)) / sizeof(format::MemoryDescriptor64);
  uint64_t count = h->number_of_memory_ranges;
  if (count > fits) {
    ctx.problem(fmt::format("Memory64List: {} ranges declared but the stream holds {}", count, fits));
    count = fits;
  }
  uint64_t rva = h->base_rva;
  for (uint64_t i = 0; i < count; ++i) {
    auto d = load<format::MemoryDescriptor64>(*stream, sizeof(*h) + i * sizeof(format::MemoryDescriptor64));
    if (!d) break;
    auto bytes = ctx.at(rva, d->data_size);
    if (!bytes) {
      // Every later range starts after this one, so none of them can be in the file either.
      ctx.problem(fmt::format("Memory64List: range {} ({:#x}, {} bytes at RVA {:#x}) outside the "
                              "file; {} later ranges dropped", i, d->start_of_memory_range,
                              d->data_size, rva, count - i - 1));
      return;
    }
    out.push_back({d->start_of_memory_range, *bytes, true});
    rva += d->data_size;  // cannot wrap: rva + data_size <= file size
  }
}

}  // namespace

std::vector<MemoryRange> parse_memory(const Context& ctx) {
  std::vector<MemoryRange> out;
  memory_list(ctx, out);
  memory64_list(ctx, out);
  std::stable_sort(out.begin(), out.end(),
                   [](const MemoryRange& a, const MemoryRange& b) { return a.address < b.address; });
  for (size_t i = 1; i < out.size(); ++i) {
    const auto& prev = out[i - 1];
    const uint64_t end = prev.bytes.size() > UINT64_MAX - prev.address
                             ? UINT64_MAX
                             : prev.address + prev.bytes.size();
    if (end <= out[i].address) continue;
    // A full dump keeps each stack in the MemoryList too, for readers that do not read
    // Memory64List (Breakpad): an overlap across the two lists is fine when the bytes agree.
    const auto& cur = out[i];
    if (prev.from_memory64 != cur.from_memory64) {
      uint64_t overlap = std::min<uint64_t>(end, cur.address + cur.bytes.size()) - cur.address;
      if (std::equal(cur.bytes.begin(), cur.bytes.begin() + static_cast<ptrdiff_t>(overlap),
                     prev.bytes.begin() + static_cast<ptrdiff_t>(cur.address - prev.address))) {
        continue;
      }
    }
    ctx.problem(fmt::format("memory: range at {:#x} overlaps the one at {:#x}", cur.address, prev.address));
  }
  return out;
}

std::vector<MemoryInfoView> parse_memory_info(const Context& ctx) {
  std::vector<MemoryInfoView> out;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::MemoryInfoList));
  if (!stream) return out;
  auto h = load<format::MemoryInfoListHeader>(*stream, 0);
  if (!h) {
    ctx.problem(fmt::format("MemoryInfoList: stream of {} bytes is too small for its header",
                            stream->size()));
    return out;
  }
  auto layout = sized_list(ctx, *stream, h->size_of_header, h->size_of_entry, h->number_of_entries,
                           sizeof(format::MemoryInfoListHeader), sizeof(format::MemoryInfo),
                           "MemoryInfoList");
  if (!layout) return out;
  out.reserve(layout->count);
  for (uint64_t i = 0; i < layout->count; ++i) {
    auto m = load<format::MemoryInfo>(*stream, layout->offset + i * layout->stride);
    if (!m) break;
    out.push_back({m->base_address, m->allocation_base, m->region_size, m->allocation_protect,
                   m->state, m->protect, m->type});
  }
  return out;
}

}  // namespace snapdump::reader::detail
