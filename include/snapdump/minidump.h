// Writing a snapshot as a standard minidump (MDMP), the analog of MiniDumpWriteDump. The file
// loads in LLDB, Breakpad's minidump_stackwalk and Windows-oriented parsers. A dump to a path is
// whole or absent: it gets its name only when complete, and never replaces a file unless asked
// (dump_output.h says what each kind of destination gets; docs/minidump.md, "Output").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snapdump/dump_callbacks.h"
#include "snapdump/dump_output.h"
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
  // A full dump from a VA clone lets the clone drop each range of memory as soon as it has been
  // read into the file's buffers (Snapshot::release_memory): the target's next write to those
  // pages then takes no copy-on-write fault, and the clone's extra memory shrinks while the dump
  // runs instead of growing towards the target's size. The snapshot's memory can then not be
  // read again: a second dump of it fails for those ranges. Memory callbacks still see every
  // range (IncludeVmRegion and VmPreRead come before a range is read, VmPostRead after, and the
  // range is dropped only after that), but one that reads memory of its own through the
  // snapshot sees the ranges already written as gone. The CLI sets it; off by default.
  bool release_written_memory = false;
  // With release_written_memory: when the target is writing its memory in sequence (a bump
  // allocator, a ring buffer), the full-memory bytes are written from where it writes now round
  // to the lowest address (Snapshot::write_front), so that the dump runs ahead of the writer and
  // the pages it reaches are already released: it copies none. The Memory64List then lists its
  // ranges in that order (DumpResult::write_front says where it began), which the format allows
  // and LLDB and Breakpad read; false keeps address order for a reader that wants it.
  bool follow_write_front = true;
};

struct DumpResult {
  uint64_t bytes = 0;       // size of the file written
  uint32_t streams = 0;     // streams in the directory
  uint64_t memory_bytes = 0;  // bytes of the process's memory in the dump
  // Of the file's bytes, those written with direct I/O (O_DIRECT), past the page cache: a full
  // dump's memory, when written to a path on a file system that takes direct writes.
  uint64_t direct_io_bytes = 0;
  // Written to a stream only: bytes of the Memory64List that could not be read when their turn
  // came (and that MiniDumpIgnoreInaccessibleMemory or ReadMemoryFailureCallback let go). A
  // stream's layout is fixed before its first byte, so they hold zeros where a file would have
  // left them out (docs/minidump.md, "Output").
  uint64_t zero_filled_bytes = 0;
  // Full-memory dumps: readable memory the capture left out (a region the kernel does not clone
  // and that was over CaptureOptions::max_uncloneable_bytes, or one that changed during the
  // stop), listed with the reason in the dump's SnapdumpOmittedMemory stream.
  uint64_t omitted_bytes = 0;
  uint32_t omitted_regions = 0;
  // Full dumps with release_written_memory of a VA clone: where the target was found writing its
  // memory in sequence, from which the memory was then written round to where the dump stood
  // (when the plan found it, the whole Memory64List starts there; into a file, a later look can
  // find it after the first ranges were written in address order); 0 when written in address
  // order throughout.
  uint64_t write_front = 0;
};

// Writes `snapshot` to `output` (made before the capture, so a destination that cannot work
// never pauses the target). An output takes one dump. With callbacks whose io_start() accepts,
// every byte goes through io_write_all instead and the output is left untouched. Throws Error
// naming the cause (no_space, io_error, permission_denied, already_exists, invalid_argument,
// cancelled, memory_unreadable, process_exited); on failure a file output never appears, and a
// stream has been cut short (what its reader then holds: docs/minidump.md, "Output").
DumpResult write_minidump(const Snapshot& snapshot, DumpOutput& output, const DumpOptions& options = {});
// The same to DumpOutput::to_path(path, output_options): a new path, or an existing regular
// file only with output_options.replace_existing; a FIFO, socket or character device as a
// stream; a symbolic link followed.
DumpResult write_minidump(const Snapshot& snapshot, const std::string& path, const DumpOptions& options = {},
                          const OutputOptions& output_options = {});
// The same to DumpOutput::to_fd(fd): a regular file from its current offset (RVAs count from
// there; the signature is written last; on failure the file is truncated back to where the dump
// began), a pipe, socket or character device as a stream. With callbacks whose io_start()
// accepts, `fd` may be -1.
DumpResult write_minidump(const Snapshot& snapshot, int fd, const DumpOptions& options = {});

// Throws Error(not_supported) naming the MINIDUMP_TYPE bits this version cannot write yet.
// Called before a capture, so that a dump that cannot be written never pauses its target.
void check_dump_type(DumpType type);

// The snapshot capture flags a dump of this type needs (threads, contexts, VA space, handles).
CaptureFlags capture_flags_for(DumpType type);

}  // namespace snapdump
