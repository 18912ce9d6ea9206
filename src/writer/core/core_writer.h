// Writing an ELF core from any ProcessView: the live capture (write_core in snapdump/core.h), or
// a dump read back (`snapdump convert`). Platform-free: it reads only through the view.
//
// The file, front to back, as the kernel writes one (fs/binfmt_elf.c, elf_core_dump):
//   Elf64_Ehdr (ET_CORE, EM_X86_64)
//   program headers: PT_NOTE, then one PT_LOAD per mapping or piece of one (core_segments.h)
//   [one Elf64_Shdr holding the real count when there are 65535 program headers or more]
//   the notes (core_notes.h)
//   the segments' bytes from the next page on, each where its p_offset says
// Everything before the segments' bytes is decided first, so the file can go out in one forward
// pass: a stream gets it as is. Into a file of snapdump's own, a dump that releases what it
// writes may write the segments' bytes from the target's write front instead, each still at its
// own p_offset (write_front_order.h): the file is the same. Pages the view says were never
// touched are holes in a file and zeros in a stream; pages that cannot be read are left the same
// way (the kernel's get_dump_page skips them too) and counted.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "view/process_view.h"
#include "writer/core/core_segments.h"
#include "writer/dump_plan.h"
#include "writer/sink.h"

namespace snapdump::writer::core {

struct CoreWriteOptions {
  Selection selection;
  std::optional<view::Signal> signal;  // overrides the view's own
  // Tell the view when each range is in the file's buffers (ProcessView::release_memory).
  bool release_written_memory = false;
  // With it, into a file of our own (sparse, seekable): the segments' bytes from where a running
  // target writes in sequence round to the lowest address (ProcessView::write_front), each still
  // where its p_offset says.
  bool follow_write_front = true;
};

struct CoreWriteResult {
  uint64_t bytes = 0;             // the file's size (holes included)
  uint64_t memory_bytes = 0;      // the PT_LOADs' file sizes added up
  uint64_t hole_bytes = 0;        // of those, pages never touched: holes (zeros in a stream)
  uint64_t unreadable_bytes = 0;  // of those, pages the view could not read: holes or zeros too
  uint64_t direct_io_bytes = 0;
  uint32_t threads = 0, segments = 0;
  bool sparse = false;  // holes left as holes (Sink::sparse), not written as zeros
  uint64_t write_front = 0;  // the address the bytes were written from; 0 in address order
};

struct CoreSink {
  bool forward_only = false;
  std::function<std::unique_ptr<Sink>()> open;
  // Called once every byte but the ELF magic is written, to refuse a file whose memory went
  // astray (Snapshot::check_intact); may be empty.
  std::function<void()> before_seal;
};

// Asks the steering callbacks (IncludeThread, Memory, RemoveMemory, IncludeVmRegion, VmStart
// and the Vm reads, Cancel) and writes the core. Throws Error; the sink is then not committed.
CoreWriteResult write_core(const view::ProcessView& view, const CoreWriteOptions& options, Steering& steering,
                           const CoreSink& sink);

}  // namespace snapdump::writer::core
