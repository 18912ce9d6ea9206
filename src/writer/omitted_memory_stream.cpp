// SnapdumpOmittedMemory: the readable memory a full dump leaves out, and why. A minidump has no
// way to say "this region was there, readable, and is not here": its MemoryInfoList shows the
// region committed and its Memory64List simply lacks it, which reads the same as memory a reader
// failed to find. So the capture's omissions (a region over the pause's copy cap, a region that
// changed during the stop) are listed here, one line each, as text a person can read with any
// tool and `snapdump inspect` prints:
//
//   0x7f12a0000000-0x7f12a6400000 over-copy-cap [anon:wipe]
//
// (start and end in hex, the reason, then the region's path as /proc/PID/maps gives it, if any).
#include <sys/mman.h>

#include <fmt/format.h>

#include "writer/streams.h"

namespace snapdump::writer {
void write_omitted_memory(WriteContext& ctx) {
  std::string text;
  for (const Region& r : ctx.snapshot.memory_map()) {
    if (r.omitted == RegionOmission::none || !(r.prot & PROT_READ) || r.io) continue;
    text += fmt::format("{:#x}-{:#x} {}{}{}\n", r.start, r.end, to_string(r.omitted), r.path.empty() ? "" : " ",
                        std::string_view(r.path));
    ctx.omitted_bytes += r.end - r.start;
    ++ctx.omitted_regions;
  }
  if (text.empty()) return;
  uint32_t rva = ctx.builder.append(text.data(), text.size());
  ctx.builder.add_stream(format::StreamType::SnapdumpOmittedMemory, rva, static_cast<uint32_t>(text.size()));
}

}  // namespace snapdump::writer
