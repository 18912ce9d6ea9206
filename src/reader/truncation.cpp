// A dump that ends before what its own directory describes: a copy that stopped, or a stream
// whose writer failed or was interrupted (a stream's header and directory go out first and are
// never rewritten). Said once, in one line, before the problems that follow from it.
#include <algorithm>
#include <cstdint>

#include <fmt/format.h>

#include "reader/parse.h"
#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"

namespace snapdump::reader::detail {
namespace {

// The end of the MemoryList's or Memory64List's bytes, as far as the stream can be read.
uint64_t memory_end(uint32_t type, Bytes stream) {
  uint64_t end = 0;
  if (type == static_cast<uint32_t>(format::StreamType::MemoryList)) {
    auto count = load<uint32_t>(stream, 0);
    if (!count) return 0;
    // The entries follow at 4, or at 8 when the writer padded the count.
    uint64_t at = (stream.size() - 4) % sizeof(format::MemoryDescriptor) == 0 ? 4 : 8;
    for (uint64_t i = 0; i < *count; ++i) {
      auto d = load<format::MemoryDescriptor>(stream, at + i * sizeof(format::MemoryDescriptor));
      if (!d) break;
      end = std::max(end, uint64_t{d->memory.rva} + d->memory.data_size);
    }
  } else if (type == static_cast<uint32_t>(format::StreamType::Memory64List)) {
    auto h = load<format::Memory64ListHeader>(stream, 0);
    if (!h) return 0;
    uint64_t total = h->base_rva;
    for (uint64_t i = 0; i < h->number_of_memory_ranges; ++i) {
      auto d = load<format::MemoryDescriptor64>(stream, sizeof(*h) + i * sizeof(format::MemoryDescriptor64));
      if (!d || d->data_size > UINT64_MAX - total) break;
      total += d->data_size;
    }
    end = total;
  }
  return end;
}

}  // namespace

std::optional<std::string> truncation_problem(const Parsed& p) {
  uint64_t described = uint64_t{p.header.stream_directory_rva} + uint64_t{p.header.number_of_streams} * sizeof(format::Directory);
  for (const StreamEntry& s : p.streams) described = std::max(described, uint64_t{s.rva} + s.size);
  for (const auto& [type, bytes] : p.valid_streams) described = std::max(described, memory_end(type, bytes));
  if (described <= p.file.size()) return std::nullopt;
  return fmt::format("truncated: the file has {} bytes but its directory and memory lists describe {}: its "
                     "end is missing (a copy that stopped, or a stream whose writer failed or was interrupted)",
                     p.file.size(), described);
}

}  // namespace snapdump::reader::detail
