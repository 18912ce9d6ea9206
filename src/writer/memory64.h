// The full-memory pass: the Memory64List's descriptor table is reserved in the image (it must
// lie below 4 GiB, where 32-bit RVAs reach), the bytes are streamed after the image, and the
// table is filled in once it is known which bytes could be read.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "writer/file_sink.h"
#include "writer/streams.h"

namespace snapdump::writer {

struct Memory64Plan {
  uint32_t rva = 0;
  std::vector<std::pair<uint64_t, uint64_t>> regions;
};

Memory64Plan reserve_memory64(WriteContext& ctx);
// Returns the stream's final size (header plus the descriptors actually written).
uint32_t stream_memory64(WriteContext& ctx, FileSink& sink, const Memory64Plan& plan);

}  // namespace snapdump::writer
