#include "writer/view_minidump/view_minidump_writer.h"

#include <algorithm>

#include <fmt/format.h>

#include "snapdump/dump_type.h"
#include "snapdump/error.h"
#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "writer/dump_builder.h"
#include "writer/view_minidump/view_streams.h"

namespace snapdump::writer::view_minidump {
namespace {

constexpr uint32_t kStreamSlots = 13;
// The Memory64List's bytes start on a page of the file, where a file sink can write them with
// direct I/O (BulkBuffer::kAlignment).
constexpr uint64_t kDataAlignment = BulkBuffer::kAlignment;

void check_signal(const ViewStreams& s) {
  if (!s.signal) return;
  if (std::none_of(s.threads.begin(), s.threads.end(), [&](const view::ThreadState* t) { return t->tid == s.signal->thread; })) {
    throw Error(Errc::invalid_argument, fmt::format("the signal's thread {} has no registers in the source", s.signal->thread));
  }
}

// Appends the Memory64List's header and descriptors; returns the header's RVA. Its BaseRva is
// patched once the image is complete.
uint32_t add_memory64_table(DumpBuilder& builder, const Ranges& ranges) {
  uint32_t rva = builder.append(format::Memory64ListHeader{ranges.size(), 0});
  std::vector<format::MemoryDescriptor64> descriptors;
  descriptors.reserve(ranges.size());
  for (const auto& [lo, hi] : ranges) descriptors.push_back({lo, hi - lo});
  builder.append(descriptors.data(), descriptors.size() * sizeof(format::MemoryDescriptor64));
  builder.add_stream(format::StreamType::Memory64List, rva,
                     static_cast<uint32_t>(sizeof(format::Memory64ListHeader) + descriptors.size() * sizeof(format::MemoryDescriptor64)));
  return rva;
}

}  // namespace

ViewMinidumpResult write_minidump(const view::ProcessView& view, const ViewMinidumpOptions& options, Steering& steering,
                                  const ViewMinidumpSink& choice) {
  std::optional<view::Signal> signal = options.signal ? options.signal : view.signal();
  Ranges memory64 = held_memory(view);
  bool xstate = false;
  std::vector<const view::ThreadState*> threads;
  for (const view::ThreadState& t : view.threads()) {
    if (t.exited) continue;
    threads.push_back(&t);
    xstate |= !t.xsave.empty();
  }
  if (threads.empty()) throw Error(Errc::invalid_argument, "the source has no thread with registers: a minidump of it would show no debugger anything");

  // The header's flags say what the file holds, as MiniDumpWriteDump's do.
  DumpType flags = dump::kWithFullMemoryInfo | (memory64.empty() ? 0 : dump::kWithFullMemory) |
                   (xstate ? dump::kWithAvxXStateContext : 0);
  DumpBuilder builder(kStreamSlots, flags, options.time_date_stamp);
  ViewStreams s{view, builder, signal, std::move(threads), {}, std::move(memory64), {}};
  check_signal(s);
  add_system_info(s);
  add_misc_info(s);
  add_stack_memory(s, options.max_stack_bytes);
  steering.check_cancel("copying the threads' stacks");
  add_thread_list(s);
  add_thread_names(s);
  add_module_list(s);
  add_memory_info_list(s);
  add_exception(s);
  add_linux_streams(s);
  uint32_t memory64_rva = add_memory64_table(builder, s.memory64);
  steering.check_cancel("planning the minidump");

  builder.reserve(static_cast<size_t>((kDataAlignment - builder.size() % kDataAlignment) % kDataAlignment), 1);
  uint64_t base_rva = builder.size();
  builder.patch(memory64_rva, format::Memory64ListHeader{s.memory64.size(), base_rva});
  // A file becomes a minidump only when whole: its signature is written last. A stream cannot
  // be patched, so it gets the finished header (a cut stream is a truncated minidump).
  uint32_t signature = format::kSignature;
  if (choice.forward_only) builder.patch(0, signature);

  ViewMinidumpResult result;
  result.threads = static_cast<uint32_t>(s.threads.size());
  result.modules = static_cast<uint32_t>(view.modules().size());
  result.ranges = static_cast<uint32_t>(s.memory64.size());
  result.streams = builder.stream_count();
  for (const CopiedStack& c : s.stacks) result.stack_bytes += c.end - c.start;
  std::unique_ptr<Sink> sink = choice.open();
  sink->append(builder.bytes());
  sink->align_for_bulk();
  if (sink->size() != base_rva) {
    throw Error(Errc::internal, fmt::format("the Memory64List's bytes were planned at {:#x}, the file is at {:#x}", base_rva, sink->size()));
  }
  // The buffer append_bulk hands back is the next chunk's (a fresh one per chunk costs a page
  // fault per page and an munmap).
  BulkBuffer buffer = sink->bulk_buffer();
  for (const auto& [lo, hi] : s.memory64) {
    for (uint64_t at = lo; at < hi;) {
      steering.check_cancel("writing the minidump's memory");
      size_t n = static_cast<size_t>(std::min<uint64_t>(hi - at, Sink::kBulkChunk));
      read_held(view, at, std::span<uint8_t>(buffer.data(), n));
      buffer = sink->append_bulk(std::move(buffer), n);
      at += n;
      result.memory_bytes += n;
    }
  }
  steering.check_cancel("finishing the minidump");
  if (!choice.forward_only) sink->write_at(0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&signature), 4));
  result.bytes = sink->size();
  sink->commit();
  result.direct_io_bytes = sink->direct_bytes();
  return result;
}

}  // namespace snapdump::writer::view_minidump
