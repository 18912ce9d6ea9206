// The stream writers. Each appends its stream to the builder and adds its directory entry.
#pragma once

#include <cstdint>
#include <vector>

#include "snapdump/format/structs.h"
#include "snapdump/minidump.h"
#include "writer/dump_builder.h"
#include "writer/dump_plan.h"
#include "writer/memory_reader.h"

namespace snapdump::writer {

// A range of the process's memory copied into the MemoryList.
struct CopiedRange {
  uint64_t address = 0;
  uint32_t size = 0;
  uint32_t rva = 0;
};

struct WriteContext {
  const Snapshot& snapshot;
  const DumpOptions& options;
  DumpBuilder& builder;
  const DumpPlan& plan;
  MemoryReader& reader;
  Steering& steering;
  std::vector<CopiedRange> memory;  // sorted, disjoint: filled by write_memory_list
  uint64_t memory_bytes = 0;
  uint64_t omitted_bytes = 0;  // readable memory left out: write_omitted_memory
  uint32_t omitted_regions = 0;
};

format::ContextAmd64 to_context(const ThreadEntry& thread);

void write_system_info(WriteContext& ctx);
void write_misc_info(WriteContext& ctx);
void write_linux_streams(WriteContext& ctx);
void write_dso_debug(WriteContext& ctx);
void write_memory_list(WriteContext& ctx);  // before the thread list: stacks point into it
void write_thread_list(WriteContext& ctx);
void write_thread_names(WriteContext& ctx);
void write_thread_info_list(WriteContext& ctx);
void write_module_list(WriteContext& ctx);
void write_handle_data(WriteContext& ctx);
void write_exception(WriteContext& ctx);
void write_token(WriteContext& ctx);
void write_unloaded_module_list(WriteContext& ctx);
void write_user_streams(WriteContext& ctx);
// Full-memory dumps: the SnapdumpOmittedMemory stream, when the capture left readable memory out.
void write_omitted_memory(WriteContext& ctx);

// Checks made before anything is written, so a bad argument costs no file.
void check_exception(const Snapshot& snapshot, const DumpException& exception);
void check_user_streams(const std::vector<UserStream>& streams);

}  // namespace snapdump::writer
