// The streams of a minidump written from a ProcessView (view_minidump_writer.h), one function
// each. Each appends its stream to the builder and adds its directory entry.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "view/process_view.h"
#include "writer/dump_builder.h"

namespace snapdump::writer::view_minidump {

using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;

// A range of the view's memory copied into the MemoryList (in the image).
struct CopiedStack {
  uint64_t start = 0, end = 0;
  uint32_t rva = 0;
};

struct ViewStreams {
  const view::ProcessView& view;
  DumpBuilder& builder;
  std::optional<view::Signal> signal;
  std::vector<const view::ThreadState*> threads;  // those with registers (not exited)
  std::vector<CopiedStack> stacks;                 // sorted, disjoint: add_stack_memory
  Ranges memory64;                                 // what the Memory64List will hold
  uint32_t context_rva_of(pid_t tid) const;
  std::vector<std::pair<pid_t, uint32_t>> contexts;  // tid -> its CONTEXT's RVA: add_thread_list
};

// Every range of the view's readable mappings that it holds bytes for, in address order.
Ranges held_memory(const view::ProcessView& view);

void add_system_info(ViewStreams& s);
void add_misc_info(ViewStreams& s);
// The threads' stacks into the MemoryList (before the thread list: stacks point into it).
// `max_stack_bytes` bounds each. Throws Error(io_error) when a held byte cannot be read.
void add_stack_memory(ViewStreams& s, uint64_t max_stack_bytes);
void add_thread_list(ViewStreams& s);
void add_thread_names(ViewStreams& s);
void add_module_list(ViewStreams& s);
void add_memory_info_list(ViewStreams& s);
void add_exception(ViewStreams& s);
void add_linux_streams(ViewStreams& s);

// Reads exactly `out.size()` bytes the view said it holds; throws Error(io_error) otherwise.
void read_held(const view::ProcessView& view, uint64_t address, std::span<uint8_t> out);

}  // namespace snapdump::writer::view_minidump
