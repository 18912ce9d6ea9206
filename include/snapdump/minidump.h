// Writing a snapshot as a standard minidump (MDMP), the analog of MiniDumpWriteDump. The file
// loads in LLDB, Breakpad's minidump_stackwalk and Windows-oriented parsers. A dump is whole or
// absent: it is written under a temporary name and renamed into place only when complete.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snapdump/dump_type.h"
#include "snapdump/snapshot.h"

namespace snapdump {

struct DumpOptions {
  DumpType type = dump::kNormal;
  // Bytes kept before and after each thread's instruction pointer (the instruction window).
  uint32_t instruction_window = 256;
  // At most this many bytes of each thread's stack, from its stack pointer upward.
  uint64_t max_stack_bytes = 8u << 20;
};

struct DumpResult {
  uint64_t bytes = 0;       // size of the file written
  uint32_t streams = 0;     // streams in the directory
  uint64_t memory_bytes = 0;  // bytes of the process's memory in the dump
};

// Writes `snapshot` to `path`. Throws Error naming the cause (no_space, io_error,
// permission_denied, invalid_argument); on failure no file is left at `path`.
DumpResult write_minidump(const Snapshot& snapshot, const std::string& path, const DumpOptions& options = {});

// Throws Error(not_supported) naming the MINIDUMP_TYPE bits this version cannot write yet.
// Called before a capture, so that a dump that cannot be written never pauses its target.
void check_dump_type(DumpType type);

// The snapshot capture flags a dump of this type needs (threads, contexts, VA space, handles).
CaptureFlags capture_flags_for(DumpType type);

}  // namespace snapdump
