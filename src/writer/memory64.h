// The full-memory pass: the Memory64List's descriptor table is reserved in the image (it must
// lie below 4 GiB, where 32-bit RVAs reach), the bytes are streamed after the image, and the
// table is filled in once it is known which bytes could be read.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "writer/sink.h"
#include "writer/streams.h"

namespace snapdump::writer {

struct Memory64Plan {
  uint32_t rva = 0;
  uint32_t slots = 0;  // descriptors the reserved table can hold
  struct Entry {
    uint64_t start = 0, end = 0;  // as IncludeVmRegionCallback's first answer left it
    VmRegionInfo info;
    // Anonymous private memory: the runs whose pages exist (present or swapped); only those are
    // written. Unset: the whole region.
    std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated;
  };
  std::vector<Entry> regions;
  bool ask = true;  // IncludeVmRegionCallback still wants to be called
  // The ranges the Memory64List holds, [start, end), once stream_memory64 has written them.
  std::vector<std::pair<uint64_t, uint64_t>> written;
};

// First pass: the regions to write (IncludeVmRegionCallback, first call per region).
Memory64Plan reserve_memory64(WriteContext& ctx);
// Second pass: streams the bytes (IncludeVmRegionCallback, second call per region); returns the
// stream's final size (header plus the descriptors actually written).
uint32_t stream_memory64(WriteContext& ctx, Sink& sink, Memory64Plan& plan);

}  // namespace snapdump::writer
