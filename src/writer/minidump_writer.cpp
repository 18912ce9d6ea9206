// write_minidump: the order of a dump. The plan is made first (every steering callback up to
// the memory selection), metadata streams are built in memory, the MemoryList holds the planned
// ranges (so readers that skip Memory64List still unwind), the full-memory bytes are streamed
// last. Into a file the signature is written when everything else is; a stream gets the
// finished image, signature included, and then the memory, each byte once and in order.
#include <ctime>
#include <functional>
#include <memory>

#include <fmt/format.h>

#include "writer/memory_info_list.h"
#include "writer/memory64.h"
#include "writer/output.h"
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
  if ((options.type & dump::kWithFullMemory) && snapshot.memory_released()) {
    throw Error(Errc::invalid_argument,
                "this snapshot's VA clone has let go of memory an earlier dump wrote (release_written_memory): "
                "capture again for another full dump");
  }
  if (options.exception) writer::check_exception(snapshot, *options.exception);
  writer::check_user_streams(options.user_streams);
}

// How the dump's bytes will leave: whether the sink is a stream is known before the layout is
// made, the sink itself is opened once the streams are built.
struct SinkChoice {
  bool forward_only = false;
  std::function<std::unique_ptr<writer::Sink>()> open;
};

DumpResult write_dump(const Snapshot& snapshot, const DumpOptions& options, writer::Steering& steering,
                      const SinkChoice& choice) {
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
  if (options.type & dump::kWithFullMemory) writer::write_omitted_memory(ctx);
  steering.check_cancel("building the streams");
  writer::Memory64Plan memory64;
  bool full = options.type & dump::kWithFullMemory;
  // The Memory64List's table is the image's last part: its bytes follow the image.
  if (full) memory64 = writer::plan_memory64(ctx, choice.forward_only);
  // After the Memory64List's plan: the MemoryInfoList is split at the ranges the dump holds (for
  // a stream, the planned pieces, final now; for a file, the ranges written, known afterwards).
  writer::MemoryInfoTable memory_info;
  if (options.type & dump::kWithFullMemoryInfo) memory_info = writer::write_memory_info_list(ctx, full ? &memory64 : nullptr);
  if (full) writer::seal_memory64_table(ctx, memory64);
  uint32_t signature = format::kSignature;
  auto signature_bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&signature), 4);
  // A stream cannot be patched: its image goes out finished.
  if (choice.forward_only) builder.patch(0, signature);

  std::unique_ptr<writer::Sink> sink = choice.open();
  sink->append(builder.bytes());
  uint64_t zero_filled = 0;
  if (full) {
    uint32_t size = writer::stream_memory64(ctx, *sink, memory64, zero_filled);
    if (!choice.forward_only) {
      builder.set_stream_size(format::StreamType::Memory64List, size);
      if (memory_info.deferred) {
        builder.set_stream_size(format::StreamType::MemoryInfoList,
                                writer::finish_memory_info_list(ctx, *sink, memory_info, memory64));
      }
      uint32_t dir = sizeof(format::Header);
      sink->write_at(dir, std::span<const uint8_t>(builder.bytes().data() + dir,
                                                   builder.stream_count() * sizeof(format::Directory)));
    }
  }
  if (!choice.forward_only) {
    steering.check_cancel("finishing the file");
    // A held target that exited or was let go, or a clone killed from outside, turned the memory
    // reads into something other than the captured point in time: such a dump must not look
    // whole. (A stream checks before its last bytes: stream_memory64.)
    snapshot.check_intact();
    // Only now does the output become a minidump.
    sink->write_at(0, signature_bytes);
  }
  uint64_t bytes = sink->size();
  sink->commit();
  steering->write_kernel_minidump();
  return {bytes,        builder.stream_count(), ctx.memory_bytes,         sink->direct_bytes(), zero_filled,
          ctx.omitted_bytes, ctx.omitted_regions, memory64.write_front};
}

SinkChoice callback_sink(writer::Steering& steering) {
  return {false, [&steering]() -> std::unique_ptr<writer::Sink> { return std::make_unique<writer::CallbackSink>(*steering); }};
}

// The output's sink; a failed dump discards the output's file at once.
DumpResult write_to(const Snapshot& snapshot, const DumpOptions& options, writer::Steering& steering,
                    DumpOutput& output) {
  return output.impl().write_once([&](bool forward_only, auto open) {
    return write_dump(snapshot, options, steering, {forward_only, open});
  });
}

// A read of the target that failed because the target died is told as that: in hold mode the
// tracer knows how it ended; in auxiliary-pages mode what was not copied in the pause is read
// from the live target. (With a clone the target's fate does not matter.)
DumpResult explained(const Snapshot& snapshot, const std::function<DumpResult()>& write) {
  try {
    return write();
  } catch (const Error& e) {
    if (e.code() == Errc::cancelled || e.code() == Errc::process_exited || e.code() == Errc::invalid_argument) throw;
    snapshot.check_intact();
    if (snapshot.memory_mode() != MemoryMode::clone && !snapshot.target_running()) {
      throw Error(Errc::process_exited,
                  fmt::format("process {} exited while its dump was written ({}); nothing was written",
                              snapshot.pid(), e.what()),
                  e.sys_errno());
    }
    throw;
  }
}

}  // namespace

DumpResult write_minidump(const Snapshot& snapshot, DumpOutput& output, const DumpOptions& options) {
  check_snapshot(snapshot, options);
  writer::Steering steering(options.callbacks);
  if (steering->io_start()) return explained(snapshot, [&] { return write_dump(snapshot, options, steering, callback_sink(steering)); });
  return explained(snapshot, [&] { return write_to(snapshot, options, steering, output); });
}

DumpResult write_minidump(const Snapshot& snapshot, const std::string& path, const DumpOptions& options,
                          const OutputOptions& output_options) {
  check_snapshot(snapshot, options);
  writer::Steering steering(options.callbacks);
  if (steering->io_start()) return explained(snapshot, [&] { return write_dump(snapshot, options, steering, callback_sink(steering)); });
  DumpOutput output = DumpOutput::to_path(path, output_options);
  return explained(snapshot, [&] { return write_to(snapshot, options, steering, output); });
}

DumpResult write_minidump(const Snapshot& snapshot, int fd, const DumpOptions& options) {
  check_snapshot(snapshot, options);
  writer::Steering steering(options.callbacks);
  if (steering->io_start()) return explained(snapshot, [&] { return write_dump(snapshot, options, steering, callback_sink(steering)); });
  DumpOutput output = DumpOutput::to_fd(fd);
  return explained(snapshot, [&] { return write_to(snapshot, options, steering, output); });
}

}  // namespace snapdump
