// write_core: a Snapshot seen through view::SnapshotView, or a minidump through
// view::MinidumpView, written by the view's core writer to the output machinery the minidump
// writer uses.
#include <signal.h>

#include <algorithm>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "snapdump/core.h"
#include "snapdump/reader.h"
#include "view/minidump_view.h"
#include "view/snapshot_view.h"
#include "writer/core/core_writer.h"
#include "writer/output.h"
#include "writer/streams.h"

namespace snapdump {
namespace {

void check_options(const CoreOptions& options) {
  if (options.coredump_filter & ~0x1ffu) {
    throw Error(Errc::invalid_argument, fmt::format("{:#x} are not coredump_filter bits (0x1ff at most)", options.coredump_filter));
  }
  if (options.signal && !options.signal->context.empty()) {
    throw Error(Errc::invalid_argument, "an ELF core holds each thread's own registers: a signal's context must be empty");
  }
}

void check_snapshot(const Snapshot& snapshot, const CoreOptions& options) {
  check_options(options);
  if (!snapshot.valid()) throw Error(Errc::invalid_argument, "an empty snapshot handle cannot be dumped");
  if (!(snapshot.flags() & capture::kThreads) || !(snapshot.flags() & capture::kThreadContext)) {
    throw Error(Errc::invalid_argument, "an ELF core needs a snapshot with kThreads and kThreadContext");
  }
  if (snapshot.memory_released()) {
    throw Error(Errc::invalid_argument,
                "this snapshot's VA clone has let go of memory an earlier dump wrote (release_written_memory): "
                "capture again for another core");
  }
  if (options.signal) writer::check_exception(snapshot, *options.signal);
}

bool fault_signal(int signo) {
  return signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP;
}

// DumpException in the view's terms; a fault's address defaults to the thread's rip, as the
// minidump's ExceptionAddress does.
std::optional<view::Signal> signal_of(const view::ProcessView& v, const std::optional<DumpException>& e) {
  if (!e) return std::nullopt;
  view::Signal s;
  s.thread = static_cast<pid_t>(e->thread_id);
  s.signo = e->signal;
  s.code = e->code;
  s.address = e->address;
  if (s.address == 0 && fault_signal(s.signo)) {
    for (const view::ThreadState& t : v.threads()) {
      if (t.tid == s.thread) s.address = t.regs.rip;
    }
  }
  return s;
}

CoreResult to_result(const writer::core::CoreWriteResult& r, const view::ProcessView& v) {
  return {r.bytes, r.memory_bytes, r.hole_bytes, r.unreadable_bytes, r.direct_io_bytes, r.threads, r.segments, r.sparse,
          r.write_front, v.gaps()};
}

// The view to the output (or to IoWriteAll when io_start accepts); a failed core discards the
// output's file at once.
// `io`: IoStartCallback accepted (asked once, by the caller); `output` is then not used.
CoreResult write_view(const view::ProcessView& v, const writer::core::CoreWriteOptions& core_options,
                      writer::Steering& steering, bool io, DumpOutput* output, std::function<void()> before_seal) {
  writer::core::CoreSink sink;
  sink.before_seal = std::move(before_seal);
  if (io) {
    sink.open = [&steering]() -> std::unique_ptr<writer::Sink> { return std::make_unique<writer::CallbackSink>(*steering); };
    return to_result(writer::core::write_core(v, core_options, steering, sink), v);
  }
  return output->impl().write_once([&](bool forward_only, auto open) {
    sink.forward_only = forward_only;
    sink.open = open;
    return to_result(writer::core::write_core(v, core_options, steering, sink), v);
  });
}

// To `output`, or when it is null to a new output for `path` (made only when the callbacks do not
// take the bytes themselves, as write_minidump does).
CoreResult write_snapshot(const Snapshot& snapshot, const CoreOptions& options, DumpOutput* output,
                          const std::string& path = {}, const OutputOptions& output_options = {}) {
  writer::Steering steering(options.callbacks);
  bool io = steering->io_start();
  std::optional<DumpOutput> made;
  if (!io && output == nullptr) output = &made.emplace(DumpOutput::to_path(path, output_options));
  view::SnapshotView v(snapshot);
  writer::core::CoreWriteOptions core_options;
  core_options.selection = {options.coredump_filter, options.full};
  core_options.signal = signal_of(v, options.signal);
  core_options.release_written_memory = options.release_written_memory;
  core_options.follow_write_front = options.follow_write_front;
  try {
    return write_view(v, core_options, steering, io, output, [&snapshot] { snapshot.check_intact(); });
  } catch (const Error& e) {
    // A read that failed because the target died is told as that (see write_minidump).
    if (e.code() == Errc::cancelled || e.code() == Errc::process_exited || e.code() == Errc::invalid_argument) throw;
    snapshot.check_intact();
    if (snapshot.memory_mode() != MemoryMode::clone && !snapshot.target_running()) {
      throw Error(Errc::process_exited,
                  fmt::format("process {} exited while its core was written ({}); nothing was written", snapshot.pid(), e.what()),
                  e.sys_errno());
    }
    throw;
  }
}

}  // namespace

CaptureFlags capture_flags_for_core() {
  return capture::kThreads | capture::kThreadContext | capture::kThreadContextExtended | capture::kVaSpace |
         capture::kVaSpaceSectionInformation;
}

CoreResult write_core(const Snapshot& snapshot, DumpOutput& output, const CoreOptions& options) {
  check_snapshot(snapshot, options);
  return write_snapshot(snapshot, options, &output);
}

CoreResult write_core(const Snapshot& snapshot, const std::string& path, const CoreOptions& options,
                      const OutputOptions& output_options) {
  check_snapshot(snapshot, options);
  return write_snapshot(snapshot, options, nullptr, path, output_options);
}

CoreResult write_core(const reader::Minidump& dump, DumpOutput& output, const CoreOptions& options) {
  check_options(options);
  view::MinidumpView v(dump);
  if (options.signal) {
    auto threads = v.threads();
    if (std::none_of(threads.begin(), threads.end(), [&](const view::ThreadState& t) {
          return static_cast<uint32_t>(t.tid) == options.signal->thread_id;
        })) {
      throw Error(Errc::invalid_argument, fmt::format("thread {} has no registers in the minidump", options.signal->thread_id));
    }
  }
  writer::Steering steering(options.callbacks);
  writer::core::CoreWriteOptions core_options;
  // Everything the dump holds: the filter chose for a live process, the minidump writer already
  // chose for this one.
  core_options.selection = {writer::core::filter::kAll, true};
  core_options.signal = options.signal ? signal_of(v, options.signal) : v.signal();
  bool io = steering->io_start();
  return write_view(v, core_options, steering, io, &output, {});
}

}  // namespace snapdump
