// The MemoryInfoList (MiniDumpWithFullMemoryInfo): the plan's regions, split at the edges of
// what the dump holds, so that every MemoryList and Memory64List range begins an entry and ends
// one. DbgHelp's dumps have that shape (it writes whole committed regions), and readers written
// for them look a range up by the entry it starts; snapdump leaves untouched anonymous pages out
// and writes stacks from below the stack pointer, so its ranges would otherwise start inside
// regions.
//
// Without a full-memory pass the ranges are those of the MemoryList, known when this stream is
// built. With one, the Memory64List's ranges are only known once its bytes are written (a read
// can fail part-way, and IncludeVmRegionCallback answers a second time), so the table is reserved
// for every split those ranges can cause and written afterwards, as the Memory64List's own is.
// Into a stream the Memory64List holds exactly its planned pieces, so the table is written at once.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "snapdump/dump_callbacks.h"
#include "writer/memory64.h"
#include "writer/sink.h"
#include "writer/streams.h"

namespace snapdump::writer {

// `regions` (sorted and disjoint) with each one that holds the start or the end of a range of
// `held` strictly inside it cut there. Every piece keeps the region's state, protection, type,
// AllocationBase and AllocationProtect: it is still part of the same allocation, as
// VirtualQuery describes part of one.
std::vector<VmRegionInfo> split_at_held_edges(std::span<const VmRegionInfo> regions,
                                              std::span<const std::pair<uint64_t, uint64_t>> held);

// The MINIDUMP_MEMORY_INFO entries of `regions`, in order.
std::vector<format::MemoryInfo> memory_info_entries(std::span<const VmRegionInfo> regions);

struct MemoryInfoTable {
  uint32_t rva = 0;       // the stream's header
  uint32_t capacity = 0;  // entries the reserved table holds
  bool deferred = false;  // written by finish_memory_info_list
};

// Adds the stream. Given the full-memory plan, reserves its table; else writes it at once.
MemoryInfoTable write_memory_info_list(WriteContext& ctx, const Memory64Plan* memory64);
// Writes the reserved table once stream_memory64 has recorded the ranges it wrote; returns the
// stream's size.
uint32_t finish_memory_info_list(WriteContext& ctx, Sink& sink, const MemoryInfoTable& table,
                                 const Memory64Plan& memory64);

}  // namespace snapdump::writer
