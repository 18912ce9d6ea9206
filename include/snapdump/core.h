// Writing a snapshot as an ELF core file, the kind the kernel writes when a process crashes and
// gdb's gcore writes of a live one: gdb, LLDB and elfutils (eu-stack, eu-unstrip) open it with
// the program's binaries. It comes from the same capture, with the same pause, as a minidump
// (a VA clone, auxiliary pages or a held target) and goes to the same outputs under the same
// rules (dump_output.h: whole or absent, mode 0600, streams in one pass). docs/core.md says what
// it holds.
//
// Memory is chosen as the kernel chooses it, by the process's /proc/PID/coredump_filter: by
// default (0x33) its private and shared anonymous memory (heap, stacks, written data), the first
// page of every ELF file it mapped (so build-ids can be read from the core) and the vDSO; the
// code and read-only data of its files are left to the files. Pages never touched are holes in
// the file (zeros in a stream), so a core's allocated size is about the memory actually used.
//
// The dump callbacks (dump_callbacks.h) that apply, in this order:
//   io_start, io_write_all, io_finish   the bytes go to the callbacks instead (holes as zeros)
//   include_thread                      false leaves a thread out (its flags are not used)
//   memory, remove_memory               ranges added to or taken out of the PT_LOADs' bytes
//                                       (page-aligned outward; an added range only inside a
//                                       readable mapping)
//   include_vm_region                   once per mapping with bytes to write; may narrow them
//   vm_start, vm_pre_read, vm_post_read around every read (VmPostRead may redact)
//   cancel                              before each 4 MiB of memory and between the steps
// Not called for a core: secondary_flags, include_module, module, thread (a core has no module
// or thread records of its own to steer), vm_query, read_memory_failure (an unreadable page is
// left as a hole, as the kernel leaves it, and counted in CoreResult::unreadable_bytes) and
// write_kernel_minidump.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snapdump/dump_callbacks.h"
#include "snapdump/dump_output.h"
#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"

namespace snapdump {

// The kernel's default /proc/PID/coredump_filter: anonymous private and shared memory, ELF
// headers, private huge pages.
inline constexpr uint32_t kDefaultCoredumpFilter = 0x33;

struct CoreOptions {
  // /proc/PID/coredump_filter bits (read_coredump_filter gives the process's own).
  uint32_t coredump_filter = kDefaultCoredumpFilter;
  // Every readable mapping whole, the files' code and data too, whatever the filter. Mappings
  // the program marked MADV_DONTDUMP stay out even then, as they do from every kernel core.
  bool full = false;
  // Why the process is dumped: NT_SIGINFO, every thread's pr_cursig, and the thread listed
  // first (the one gdb and LLDB show as stopped by the signal). `context` must be empty.
  // Without one, the core has no NT_SIGINFO and the main thread is listed first.
  std::optional<DumpException> signal;
  DumpCallbacks* callbacks = nullptr;  // not owned, may be null
  // As DumpOptions::release_written_memory: a VA clone drops each range once it is in the
  // file's buffers; the snapshot cannot be dumped whole again. The CLI sets it.
  bool release_written_memory = false;
  // As DumpOptions::follow_write_front, into a file snapdump creates: the segments' bytes are
  // written from where a running target writes in sequence (each at its own p_offset: the file
  // is the same), so that it reaches only pages the clone has let go of. Streams are written in
  // order.
  bool follow_write_front = true;
};

struct CoreResult {
  uint64_t bytes = 0;             // the file's size, holes included
  uint64_t memory_bytes = 0;      // bytes of the process's memory the PT_LOADs hold
  uint64_t hole_bytes = 0;        // of those, pages never touched: holes in a file, zeros in a stream
  uint64_t unreadable_bytes = 0;  // of those, pages that could not be read: holes or zeros too
  uint64_t direct_io_bytes = 0;   // as DumpResult::direct_io_bytes
  uint32_t threads = 0;           // NT_PRSTATUS notes
  uint32_t segments = 0;          // PT_LOAD program headers
  // hole_bytes and unreadable_bytes were left as holes (a file snapdump created); otherwise they
  // were written as zeros (a stream, a caller's descriptor, IoWriteAll).
  bool sparse = false;
  // Where the memory was written from when not in address order (follow_write_front); 0 if it was.
  uint64_t write_front = 0;
  // What the source could not give, in words ("no signal masks: ..."): the core has nothing
  // made up in their place.
  std::vector<std::string> gaps;
};

// The capture flags a core needs (threads, their full registers, the address space and the
// ELF identities). Add kVaClone for a point-in-time core of a running process (the CLI does,
// unless --no-clone, which holds the target instead).
CaptureFlags capture_flags_for_core();

// The process's /proc/PID/coredump_filter. Throws Error (no_such_process, permission_denied).
uint32_t read_coredump_filter(pid_t pid);

// Writes `snapshot` as an ELF core to `output` (made before the capture). Throws Error naming
// the cause (invalid_argument, cancelled, no_space, io_error, process_exited, ...); on failure a
// file output never appears and a stream has been cut short.
CoreResult write_core(const Snapshot& snapshot, DumpOutput& output, const CoreOptions& options = {});
// The same to DumpOutput::to_path(path, output_options).
CoreResult write_core(const Snapshot& snapshot, const std::string& path, const CoreOptions& options = {},
                      const OutputOptions& output_options = {});

namespace reader {
class Minidump;
}
// A minidump read back (snapdump/reader.h) written as an ELF core: `snapdump convert`. The core
// holds the dump's threads and registers, its Exception stream as the signal (options.signal
// replaces it), its file mappings in NT_FILE, and exactly the memory the dump holds: every
// mapping keeps its PT_LOAD, with bytes only where the dump has them. coredump_filter and full do
// not apply. CoreResult::gaps says what the minidump did not carry.
CoreResult write_core(const reader::Minidump& dump, DumpOutput& output, const CoreOptions& options = {});

struct MinidumpFromCoreResult {
  uint64_t bytes = 0;         // the minidump's size
  uint64_t memory_bytes = 0;  // its Memory64List's bytes: every byte of memory the core holds
  uint32_t threads = 0, modules = 0, ranges = 0;
  // What a core does not carry, in words: the minidump has nothing made up in its place.
  std::vector<std::string> gaps;
  // What of the core could not be read (a truncated or damaged file): the minidump holds the rest.
  std::vector<std::string> problems;
};

// The ELF core at `core_path` (the kernel's, gdb's gcore's, snapdump's) written as a minidump:
// `snapdump convert CORE`. The minidump holds the core's threads with their registers (the XSAVE
// area in the CONTEXT_EX form where the core has NT_X86_XSTATE), its signal as the Exception
// stream, the modules found from NT_FILE with their build-ids, the PT_LOADs as the memory map,
// each thread's stack in the MemoryList and every byte of memory the core holds in the
// Memory64List, nothing more. Throws Error: corrupt_input when the file is not an x86-64 ELF
// core, invalid_argument for a core without threads, the output's errors as write_minidump's.
MinidumpFromCoreResult write_minidump_from_core(const std::string& core_path, DumpOutput& output);

}  // namespace snapdump
