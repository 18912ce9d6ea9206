// write_minidump: the order of a dump. The plan is made first (every steering callback up to
// the memory selection), metadata streams are built in memory, the MemoryList holds the planned
// ranges (so readers that skip Memory64List still unwind), the full-memory bytes are streamed
// last, and the signature is written when everything else is written.
#include <ctime>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "writer/memory64.h"
#include "writer/memory_info_list.h"
#include "writer/sink.h"
#include "writer/streams.h"

namespace snapdump {

CaptureFlags capture_flags_for(DumpType type) {
  CaptureFlags flags = capture::kThreads | capture::kThreadContext | capture::kVaSpace |
                       capture::kVaSpaceSectionInformation;
  if (type & dump::kWithAvxXStateContext) flags |= capture::kThreadContextExtended;
  if (type & dump::kWithHandleData) {
    flags |= capture::kHandles | capture::kHandleNameInformation | capture::kHandleBasicInformation |
             capture::kHandleTypeSpecificInformation;
  }
  return flags;
}

void check_dump_type(DumpType type) {
  // Accepted with no effect on Linux (docs/minidump.md): no auxiliary state providers exist.
  constexpr DumpType kNoLinuxMeaning = dump::kWithoutAuxiliaryState | dump::kWithFullAuxiliaryState |
                                       dump::kFilterWriteCombinedMemory;
  constexpr DumpType kSupported =
      dump::kNormal | dump::kWithDataSegs | dump::kWithFullMemory | dump::kWithHandleData | dump::kFilterMemory |
      dump::kScanMemory | dump::kWithIndirectlyReferencedMemory | dump::kFilterModulePaths |
      dump::kWithProcessThreadData | dump::kWithPrivateReadWriteMemory | dump::kWithoutOptionalData |
      dump::kWithFullMemoryInfo | dump::kWithThreadInfo | dump::kWithCodeSegs | dump::kWithPrivateWriteCopyMemory |
      dump::kIgnoreInaccessibleMemory | dump::kWithModuleHeaders | dump::kFilterTriage |
      dump::kScanInaccessiblePartialPages | dump::kWithAvxXStateContext | dump::kWithUnloadedModules |
      dump::kWithTokenInformation | kNoLinuxMeaning;
  if (type & ~dump::kValidTypeFlags) {
    throw Error(Errc::invalid_argument, fmt::format("{:#x} are not MINIDUMP_TYPE flags", type & ~dump::kValidTypeFlags));
  }
  if (type & dump::kWithIptTrace) {
    throw Error(Errc::not_supported,
                "MiniDumpWithIptTrace: snapdump records no Intel Processor Trace (the IptTrace stream "
                "has no public format, and the capture of PSS_CAPTURE_IPT_TRACE is not implemented)");
  }
  if (type & ~kSupported) {
    throw Error(Errc::not_supported,
                fmt::format("dump type flags {:#x} are not implemented yet", type & ~kSupported));
  }
}

namespace {

void check_snapshot(const Snapshot& snapshot, const DumpOptions& options) {
  check_dump_type(options.type);
  if (!snapshot.valid()) throw Error(Errc::invalid_argument, "an empty snapshot handle cannot be dumped");
  if (!(snapshot.flags() & capture::kThreads) || !(snapshot.flags() & capture::kThreadContext)) {
    throw Error(Errc::invalid_argument, "a minidump needs a snapshot with kThreads and kThreadContext");
  }
  if ((options.type & dump::kWithHandleData) && !(snapshot.flags() & capture::kHandles)) {
    throw Error(Errc::invalid_argument, "MiniDumpWithHandleData needs a snapshot with kHandles");
  }
  if ((options.type & dump::kWithAvxXStateContext) && !(snapshot.flags() & capture::kThreadContextExtended)) {
    throw Error(Errc::invalid_argument, "MiniDumpWithAvxXStateContext needs a snapshot with kThreadContextExtended");
  }
  if (options.exception) writer::check_exception(snapshot, *options.exception);
  writer::check_user_streams(options.user_streams);
}

// The image is built with the signature zeroed; it is written last, once every other byte is.
DumpResult write_dump(const Snapshot& snapshot, const DumpOptions& options, writer::Steering& steering,
                 const std::function<std::unique_ptr<writer::Sink>()>& open_sink) {
  writer::DumpPlan plan = writer::plan_dump(snapshot, options, steering);
  writer::MemoryReader reader(snapshot, options, steering, plan.vm_callbacks);
  writer::DumpBuilder builder(24 + static_cast<uint32_t>(options.user_streams.size()), options.type,
                              static_cast<uint32_t>(std::time(nullptr)));
  writer::WriteContext ctx{snapshot, options, builder, plan, reader, steering, {}, 0};
  writer::write_system_info(ctx);
  writer::write_misc_info(ctx);
  writer::write_memory_list(ctx);
  writer::write_thread_list(ctx);
  writer::write_thread_names(ctx);
  if (options.type & dump::kWithThreadInfo) writer::write_thread_info_list(ctx);
  writer::write_module_list(ctx);
  if (options.type & dump::kWithUnloadedModules) writer::write_unloaded_module_list(ctx);
  if (options.type & dump::kWithTokenInformation) writer::write_token(ctx);
  if (options.type & dump::kWithHandleData) writer::write_handle_data(ctx);
  writer::write_linux_streams(ctx);
  writer::write_dso_debug(ctx);
  if (options.exception) writer::write_exception(ctx);
  writer::write_user_streams(ctx);
  steering.check_cancel("building the streams");
  writer::Memory64Plan memory64;
  bool full = options.type & dump::kWithFullMemory;
  if (full) memory64 = writer::reserve_memory64(ctx);
  // After the Memory64List's plan: the MemoryInfoList is split at the ranges the dump holds.
  writer::MemoryInfoTable memory_info;
  if (options.type & dump::kWithFullMemoryInfo) memory_info = writer::write_memory_info_list(ctx, full ? &memory64 : nullptr);

  std::unique_ptr<writer::Sink> sink = open_sink();
  sink->append(builder.bytes());
  if (full) {
    uint32_t size = writer::stream_memory64(ctx, *sink, memory64);
    builder.set_stream_size(format::StreamType::Memory64List, size);
    if (memory_info.deferred) {
      builder.set_stream_size(format::StreamType::MemoryInfoList,
                              writer::finish_memory_info_list(ctx, *sink, memory_info, memory64));
    }
    uint32_t dir = sizeof(format::Header);
    sink->write_at(dir, std::span<const uint8_t>(builder.bytes().data() + dir,
                                                 builder.stream_count() * sizeof(format::Directory)));
  }
  steering.check_cancel("finishing the file");
  // Only now does the output become a minidump.
  uint32_t signature = format::kSignature;
  sink->write_at(0, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&signature), 4));
  uint64_t bytes = sink->size();
  sink->commit();
  steering->write_kernel_minidump();
  return {bytes, builder.stream_count(), ctx.memory_bytes, sink->direct_bytes()};
}

}  // namespace

DumpResult write_minidump(const Snapshot& snapshot, const std::string& path, const DumpOptions& options) {
  check_snapshot(snapshot, options);
  writer::Steering steering(options.callbacks);
  bool io = steering->io_start();
  return write_dump(snapshot, options, steering, [&]() -> std::unique_ptr<writer::Sink> {
    if (io) return std::make_unique<writer::CallbackSink>(*steering);
    return std::make_unique<writer::FileSink>(path);
  });
}

DumpResult write_minidump(const Snapshot& snapshot, int fd, const DumpOptions& options) {
  check_snapshot(snapshot, options);
  writer::Steering steering(options.callbacks);
  bool io = steering->io_start();
  if (!io && fd < 0) throw Error(Errc::invalid_argument, fmt::format("fd {} is not an open file", fd));
  return write_dump(snapshot, options, steering, [&]() -> std::unique_ptr<writer::Sink> {
    if (io) return std::make_unique<writer::CallbackSink>(*steering);
    return std::make_unique<writer::FdSink>(fd);
  });
}

}  // namespace snapdump
