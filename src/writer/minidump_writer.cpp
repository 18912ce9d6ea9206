// write_minidump: the order of a dump. Metadata streams are built in memory, the MemoryList
// holds stacks and instruction windows (so readers that skip Memory64List still unwind), the
// full-memory bytes are streamed last, and the signature is written when everything else is
// on disk.
#include <ctime>

#include <fmt/format.h>

#include "writer/file_sink.h"
#include "writer/memory64.h"
#include "writer/streams.h"

namespace snapdump {

CaptureFlags capture_flags_for(DumpType type) {
  CaptureFlags flags = capture::kThreads | capture::kThreadContext | capture::kVaSpace |
                       capture::kVaSpaceSectionInformation;
  if (type & dump::kWithHandleData) {
    flags |= capture::kHandles | capture::kHandleNameInformation | capture::kHandleBasicInformation |
             capture::kHandleTypeSpecificInformation;
  }
  return flags;
}

void check_dump_type(DumpType type) {
  constexpr DumpType kSupported = dump::kNormal | dump::kWithFullMemory | dump::kWithHandleData |
                                  dump::kWithoutOptionalData | dump::kWithFullMemoryInfo |
                                  dump::kWithThreadInfo | dump::kIgnoreInaccessibleMemory;
  if (type & ~dump::kValidTypeFlags) {
    throw Error(Errc::invalid_argument, fmt::format("{:#x} are not MINIDUMP_TYPE flags", type & ~dump::kValidTypeFlags));
  }
  if (type & ~kSupported) {
    throw Error(Errc::not_supported,
                fmt::format("dump type flags {:#x} are not implemented yet", type & ~kSupported));
  }
}

DumpResult write_minidump(const Snapshot& snapshot, const std::string& path, const DumpOptions& options) {
  check_dump_type(options.type);
  if (!(snapshot.flags() & capture::kThreads) || !(snapshot.flags() & capture::kThreadContext)) {
    throw Error(Errc::invalid_argument, "a minidump needs a snapshot with kThreads and kThreadContext");
  }
  if ((options.type & dump::kWithHandleData) && !(snapshot.flags() & capture::kHandles)) {
    throw Error(Errc::invalid_argument, "MiniDumpWithHandleData needs a snapshot with kHandles");
  }
  writer::DumpBuilder builder(24, options.type, static_cast<uint32_t>(std::time(nullptr)));
  writer::WriteContext ctx{snapshot, options, builder, {}, 0};
  writer::write_system_info(ctx);
  writer::write_misc_info(ctx);
  writer::write_memory_list(ctx);
  writer::write_thread_list(ctx);
  writer::write_thread_names(ctx);
  if (options.type & dump::kWithThreadInfo) writer::write_thread_info_list(ctx);
  writer::write_module_list(ctx);
  if (options.type & dump::kWithFullMemoryInfo) writer::write_memory_info_list(ctx);
  if (options.type & dump::kWithHandleData) writer::write_handle_data(ctx);
  writer::write_linux_streams(ctx);
  writer::Memory64Plan plan;
  bool full = options.type & dump::kWithFullMemory;
  if (full) plan = writer::reserve_memory64(ctx);

  writer::FileSink sink(path);
  sink.append(builder.bytes());
  if (full) {
    uint32_t size = writer::stream_memory64(ctx, sink, plan);
    builder.set_stream_size(format::StreamType::Memory64List, size);
    uint32_t dir = sizeof(format::Header);
    sink.write_at(dir, std::span<const uint8_t>(builder.bytes().data() + dir,
                                                builder.stream_count() * sizeof(format::Directory)));
  }
  // Only now does the file become a minidump.
  uint32_t signature = format::kSignature;
  sink.write_at(0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&signature), 4));
  uint64_t bytes = sink.size();
  sink.commit();
  return {bytes, builder.stream_count(), ctx.memory_bytes};
}

}  // namespace snapdump
