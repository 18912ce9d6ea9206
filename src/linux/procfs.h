// Parsers for /proc/PID files. Every function reads the live kernel view; none stops the
// target. A vanished process gives Error(no_such_process), a refused read
// Error(permission_denied), so callers can tell a user why.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory_resource>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "snapdump/error.h"
#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// Whole file as a string (procfs files have no useful size, so this reads until EOF).
std::string read_text_file(const std::string& path);

// /proc/PID/maps, or /proc/PID/smaps when with_smaps is set (then rss/anonymous/swap/anon_huge
// and the VmFlags dc/wf/dd/hg/io fields are filled too). RegionType: image for file mappings
// of ELF files (decided later by elf_identity), mapped for other file mappings and shared
// anonymous memory, private_ otherwise. `copy` and `elf` are left at their defaults.
// Regions (and their paths) come from `memory`, the file's text from `scratch`.
std::pmr::vector<Region> read_maps(pid_t pid, bool with_smaps,
                                   std::pmr::memory_resource* memory = std::pmr::get_default_resource(),
                                   std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// Where each mapping of /proc/PID/maps lies and its protection, nothing else: for checks made
// while the target is stopped, where every tenth of a millisecond is the target's. Parsing
// node's 400 mappings into Regions (paths, devices, types) takes 0.3 ms warm and about 1 ms
// cold, in the tracer that runs once per capture; this reads the same file in a tenth of that.
struct MapExtent {
  uint64_t start = 0;
  uint64_t end = 0;
  uint32_t prot = 0;  // PROT_READ | PROT_WRITE | PROT_EXEC, as Region::prot
};
std::pmr::vector<MapExtent> read_map_extents(pid_t pid, std::pmr::memory_resource* memory);

// Everything ProcessInfo holds, from stat, status, exe, cmdline, comm and sched_getaffinity
// (the raw *_text members are left empty). The second form takes nothing from the heap on
// success: strings come from `out`, transient text from `scratch`.
ProcessInfo read_process_info(pid_t pid);
ProcessInfo read_process_info(pid_t pid, std::pmr::memory_resource* out, std::pmr::memory_resource* scratch);

// TIDs in /proc/PID/task, ascending.
std::vector<pid_t> list_threads(pid_t pid);
// The same into `out` (cleared first, sorted), without the heap when `out`'s allocator does
// not use it: raw getdents64 into a stack buffer, for the pause of a kCreateUseVmAllocations
// capture. Returns 0, or the errno that kept /proc/PID/task from being read.
int list_threads(pid_t pid, std::pmr::vector<pid_t>& out);

struct TaskStat {
  char state = '?';
  uint64_t user_time_ns = 0, kernel_time_ns = 0;
  uint64_t start_time_unix_ns = 0;
  int priority = 0, nice = 0;
  int processor = -1;
};
// Heap-free on success (a stack buffer).
TaskStat read_task_stat(pid_t pid, pid_t tid);

// True if `pid` no longer runs: no /proc entry, or a zombie (dead, not yet reaped).
bool process_gone(pid_t pid) noexcept;

// The parent pid (stat field 4), or 0 if unreadable. No heap: callable in the pause.
pid_t read_parent_pid(pid_t pid) noexcept;

// The NSpid line of /proc/PID/status: the pid in each nested PID namespace, innermost last.
// A syscall injected into a process takes pids as its own namespace numbers them, which in a
// container are not snapdump's. The status text goes to a stack buffer (the heap only for a
// status beyond 16 KiB, a process in thousands of groups): callable in the pause.
struct NamespacePids {
  size_t levels = 0;  // 0: unreadable
  pid_t innermost = 0;
};
NamespacePids read_namespace_pids(pid_t pid) noexcept;

// Whether processes a and b show the same memory map marks in /proc/PID/stat (where the program,
// its data, stack and arguments lie): for two processes that share one memory (CLONE_VM), false
// once one of them has run a new program. False when either cannot be read.
bool same_memory_marks(pid_t a, pid_t b) noexcept;

// /proc/PID/task/TID/comm without the newline.
std::string read_thread_name(pid_t pid, pid_t tid);
// The same into `out`, without the heap beyond `out`'s allocator: 0 or the errno.
int read_thread_name(pid_t pid, pid_t tid, std::pmr::string& out) noexcept;

// /proc/PID/task/TID/syscall. number: the syscall, -1 "running" (user space), -2 unknown.
struct SyscallState {
  long number = -2;
  std::array<uint64_t, 6> args{};
  uint64_t stack_pointer = 0, instruction_pointer = 0;
};
SyscallState read_syscall(pid_t pid, pid_t tid);
// The same without the heap or a throw (for the pause): 0, or the errno of the failed read.
int read_syscall(pid_t pid, pid_t tid, SyscallState& out) noexcept;

// The first 64 CPUs of a thread's affinity mask.
uint64_t read_affinity(pid_t tid);

// /proc/PID/auxv as (type, value) pairs.
std::vector<std::pair<uint64_t, uint64_t>> read_auxv(pid_t pid);
// The same from auxv bytes already read (ProcessInfo::auxv_raw).
std::vector<std::pair<uint64_t, uint64_t>> parse_auxv(std::string_view bytes);
// The value of entry `type` (AT_ENTRY, AT_PHDR, ...) in auxv bytes; 0 when absent.
uint64_t auxv_value(std::string_view bytes, uint64_t type);

// Boot time in Unix nanoseconds (btime of /proc/stat): converts start times in clock ticks.
uint64_t boot_time_unix_ns();

// ---- helpers shared by the other /proc readers ----------------------------------------------

// read_text_file without the throw: 0 on success, else the errno (ENOENT when a process or an
// fd vanished). Lets callers treat "gone" as "skip" where that is the contract.
int try_read_text_file(const std::string& path, std::string& out);

// The Error for a failed access to `path`: ENOENT/ESRCH give no_such_process, EACCES/EPERM
// permission_denied (with a hint on how to get access), others follow errc_from_errno.
Error error_for_path(const std::string& path, int err);

// Wall-clock now in Unix nanoseconds (the capture_time of entries).
uint64_t now_unix_ns();

// ---- pure parsers of already-read text (exposed so tests can feed them odd input) ------------

// The text of /proc/PID/maps or /proc/PID/smaps. Lines that do not parse are skipped.
std::pmr::vector<Region> parse_maps(std::string_view text, bool with_smaps,
                                    std::pmr::memory_resource* memory = std::pmr::get_default_resource());
// The same text, only the extents (lines that do not parse are skipped).
std::pmr::vector<MapExtent> parse_map_extents(std::string_view text, std::pmr::memory_resource* memory);

// The text of /proc/PID/task/TID/syscall.
SyscallState parse_syscall(std::string_view text);

}  // namespace snapdump::os
