// The full-memory pass. Its plan is complete before the first byte is written: every region
// asked of IncludeVmRegionCallback twice (the second answer may only narrow the first) and cut to
// the pages that exist. The descriptor table lies in the image (below 4 GiB, where 32-bit RVAs
// reach) and the bytes follow the image. A seekable sink gets the table filled in afterwards,
// with each piece cut where its memory turned out unreadable; a stream gets the table as
// planned, before the bytes, and zeros where memory turned out unreadable.
#pragma once

#include <cstdint>
#include <vector>

#include "writer/sink.h"
#include "writer/streams.h"

namespace snapdump::writer {

struct Memory64Plan {
  uint32_t rva = 0;
  uint32_t slots = 0;  // descriptors the reserved table can hold
  // What is to be written: in address order, or from where a running target writes now round
  // to the lowest address (write_front); a cancel check follows each region's last piece.
  struct Piece {
    uint64_t start = 0, end = 0;
    bool ends_region = false;
  };
  std::vector<Piece> pieces;
  bool forward_only = false;
  uint64_t base_rva = 0;  // forward only: where the bytes begin, written in the table up front
  // Where the pieces start when they do not start at the lowest address: the target's write
  // front (Snapshot::write_front); 0 in address order.
  uint64_t write_front = 0;
  // A file's, when the plan found no front: the private anonymous memory the clone shares, where
  // stream_memory64 looks for it again once writing has begun.
  std::vector<std::pair<uint64_t, uint64_t>> later_looks;
  // The ranges the Memory64List holds, [start, end), in address order, once stream_memory64 has
  // written them (for a stream, the planned pieces).
  std::vector<std::pair<uint64_t, uint64_t>> written;
};

// Plans the pass and reserves the table as the image's last bytes (IncludeVmRegionCallback,
// both calls per region). `forward_only`: the table is final now, for a stream.
Memory64Plan plan_memory64(WriteContext& ctx, bool forward_only);
// For a stream: the image is complete (nothing more is appended to it), so the table gets its
// final descriptors and where the bytes begin. Nothing for a file.
void seal_memory64_table(WriteContext& ctx, Memory64Plan& plan);
// Streams the bytes after the image; returns the stream's final size (header plus the
// descriptors actually written; for a stream, the planned size). `zero_filled` counts a
// stream's bytes that could not be read.
uint32_t stream_memory64(WriteContext& ctx, Sink& sink, Memory64Plan& plan, uint64_t& zero_filled);

}  // namespace snapdump::writer
