// Writing a snapshot as a standard minidump (MDMP), the analog of MiniDumpWriteDump. The file
// loads in LLDB, Breakpad's minidump_stackwalk and Windows-oriented parsers. A dump is whole or
// absent: it is written under a temporary name and renamed into place only when complete.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snapdump/dump_callbacks.h"
#include "snapdump/dump_type.h"
#include "snapdump/snapshot.h"

namespace snapdump {

// MINIDUMP_EXCEPTION_INFORMATION on Linux: the signal that the dump is about.
struct DumpException {
  uint32_t thread_id = 0;  // the thread that took the signal
  int signal = 0;          // ExceptionCode: LLDB and Breakpad read the signal number there
  int code = 0;            // si_code
  uint64_t address = 0;    // si_addr; 0 = the thread's instruction pointer
  // A CONTEXT (format::ContextAmd64, 1232 bytes) to write instead of the thread's captured
  // registers, as MINIDUMP_EXCEPTION_INFORMATION's ContextRecord; empty = the thread's own.
  std::vector<uint8_t> context;
};

// MINIDUMP_USER_STREAM: a caller's stream, written as given.
struct UserStream {
  // Any type but 0 and the ones snapdump writes itself (docs/minidump.md): CommentStreamA (0xA)
  // and CommentStreamW (0xB), or a private type above LastReservedStream (0xffff).
  uint32_t type = 0;
  std::vector<uint8_t> data;
};

struct DumpOptions {
  DumpType type = dump::kNormal;
  // MINIDUMP_SECONDARY_FLAGS, before the secondary_flags callback sees them.
  uint32_t secondary_flags = 0;
  std::optional<DumpException> exception;
  std::vector<UserStream> user_streams;
  // Steering callbacks (MINIDUMP_CALLBACK_INFORMATION); not owned, may be null.
  DumpCallbacks* callbacks = nullptr;
  // Bytes kept before and after each thread's instruction pointer (the instruction window).
  uint32_t instruction_window = 256;
  // At most this many bytes of each thread's stack, from its stack pointer upward.
  uint64_t max_stack_bytes = 8u << 20;
};

struct DumpResult {
  uint64_t bytes = 0;       // size of the file written
  uint32_t streams = 0;     // streams in the directory
  uint64_t memory_bytes = 0;  // bytes of the process's memory in the dump
  // Of the file's bytes, those written with direct I/O (O_DIRECT), past the page cache: a full
  // dump's memory, when written to a path on a file system that takes direct writes.
  uint64_t direct_io_bytes = 0;
};

// Writes `snapshot` to `path`. Throws Error naming the cause (no_space, io_error,
// permission_denied, invalid_argument, cancelled); on failure no file is left at `path`.
DumpResult write_minidump(const Snapshot& snapshot, const std::string& path, const DumpOptions& options = {});
// Writes `snapshot` to the open file `fd`, starting at its current offset (RVAs count from
// there). The header's signature is written last: on failure what was written does not carry
// it, and a regular file is truncated back to where the dump began. With callbacks whose
// io_start() accepts, every byte goes through io_write_all and `fd` may be -1.
DumpResult write_minidump(const Snapshot& snapshot, int fd, const DumpOptions& options = {});

// Throws Error(not_supported) naming the MINIDUMP_TYPE bits this version cannot write yet.
// Called before a capture, so that a dump that cannot be written never pauses its target.
void check_dump_type(DumpType type);

// The snapshot capture flags a dump of this type needs (threads, contexts, VA space, handles).
CaptureFlags capture_flags_for(DumpType type);

}  // namespace snapdump
