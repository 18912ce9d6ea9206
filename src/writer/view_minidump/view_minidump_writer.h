// Writing a minidump from any ProcessView: `snapdump convert` of an ELF core (the kernel's,
// gdb's gcore's, snapdump's own), the way the core writer (writer/core/) writes a core from any
// view. Platform-free: it reads only through the view, never the machine it runs on (no CPUID,
// no uname: the view's process ran elsewhere, perhaps on another CPU and kernel).
//
// The file, front to back:
//   header, directory, the streams (SystemInfo, MiscInfo, ThreadList with each thread's CONTEXT
//   and, where the view has its XSAVE area, the CONTEXT_EX form with AVX state; ThreadNames,
//   ModuleList with build-ids, MemoryList with each thread's stack, MemoryInfoList, Exception,
//   and Breakpad's Linux text streams rebuilt from the view: LinuxMaps, LinuxProcStatus,
//   LinuxCmdLine, LinuxAuxv), padding to a page, then the Memory64List's bytes: every byte the
//   view holds, and nothing it does not (a core's mapping without bytes keeps its MemoryInfoList
//   entry and no range).
// Everything before the Memory64List's bytes is decided first, so a stream gets the file in one
// forward pass; into a file the signature is written last, as the capture's writer does.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "view/process_view.h"
#include "writer/dump_plan.h"
#include "writer/sink.h"

namespace snapdump::writer::view_minidump {

struct ViewMinidumpOptions {
  std::optional<view::Signal> signal;  // overrides the view's own
  // A thread's stack in the MemoryList: from below its stack pointer (the red zone) up to this
  // many bytes, within its mapping and what the view holds.
  uint64_t max_stack_bytes = uint64_t{1} << 20;
  uint32_t time_date_stamp = 0;  // the header's TimeDateStamp (seconds since the epoch)
};

struct ViewMinidumpResult {
  uint64_t bytes = 0;         // the file's size
  uint64_t memory_bytes = 0;  // the Memory64List's bytes
  uint64_t stack_bytes = 0;   // the MemoryList's bytes (the threads' stacks, also in the Memory64List)
  uint64_t direct_io_bytes = 0;
  uint32_t threads = 0, modules = 0, ranges = 0, streams = 0;
};

struct ViewMinidumpSink {
  bool forward_only = false;
  std::function<std::unique_ptr<Sink>()> open;
};

// Writes the minidump. Throws Error (invalid_argument for a view with no thread, io_error when
// the view cannot read bytes it said it holds, cancelled); the sink is then not committed.
ViewMinidumpResult write_minidump(const view::ProcessView& view, const ViewMinidumpOptions& options, Steering& steering,
                                  const ViewMinidumpSink& sink);

}  // namespace snapdump::writer::view_minidump
