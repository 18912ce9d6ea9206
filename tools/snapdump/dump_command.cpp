#include "dump_command.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "capture_flags.h"
#include "interrupt.h"
#include "name_escape.h"
#include "progress.h"
#include "snapdump/core.h"
#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"

namespace snapdump::cli {
namespace {

struct TypeName {
  const char* name;  // without the MiniDump prefix
  uint32_t value;
};

constexpr TypeName kTypes[] = {
    {"Normal", format::dump_type::kNormal},
    {"WithDataSegs", format::dump_type::kWithDataSegs},
    {"WithFullMemory", format::dump_type::kWithFullMemory},
    {"WithHandleData", format::dump_type::kWithHandleData},
    {"FilterMemory", format::dump_type::kFilterMemory},
    {"ScanMemory", format::dump_type::kScanMemory},
    {"WithUnloadedModules", format::dump_type::kWithUnloadedModules},
    {"WithIndirectlyReferencedMemory", format::dump_type::kWithIndirectlyReferencedMemory},
    {"FilterModulePaths", format::dump_type::kFilterModulePaths},
    {"WithProcessThreadData", format::dump_type::kWithProcessThreadData},
    {"WithPrivateReadWriteMemory", format::dump_type::kWithPrivateReadWriteMemory},
    {"WithoutOptionalData", format::dump_type::kWithoutOptionalData},
    {"WithFullMemoryInfo", format::dump_type::kWithFullMemoryInfo},
    {"WithThreadInfo", format::dump_type::kWithThreadInfo},
    {"WithCodeSegs", format::dump_type::kWithCodeSegs},
    {"WithoutAuxiliaryState", format::dump_type::kWithoutAuxiliaryState},
    {"WithFullAuxiliaryState", format::dump_type::kWithFullAuxiliaryState},
    {"WithPrivateWriteCopyMemory", format::dump_type::kWithPrivateWriteCopyMemory},
    {"IgnoreInaccessibleMemory", format::dump_type::kIgnoreInaccessibleMemory},
    {"WithTokenInformation", format::dump_type::kWithTokenInformation},
    {"WithModuleHeaders", format::dump_type::kWithModuleHeaders},
    {"FilterTriage", format::dump_type::kFilterTriage},
    {"WithAvxXStateContext", format::dump_type::kWithAvxXStateContext},
    {"WithIptTrace", format::dump_type::kWithIptTrace},
    {"ScanInaccessiblePartialPages", format::dump_type::kScanInaccessiblePartialPages},
    {"FilterWriteCombinedMemory", format::dump_type::kFilterWriteCombinedMemory},
};

// A person asking for "everything" wants a dump even where a file mapping runs past its file's
// end: unreadable bytes are left out rather than failing the dump.
constexpr uint32_t kFull = format::dump_type::kWithFullMemory | format::dump_type::kWithFullMemoryInfo |
                           format::dump_type::kWithThreadInfo | format::dump_type::kWithHandleData |
                           format::dump_type::kWithUnloadedModules | format::dump_type::kWithTokenInformation |
                           format::dump_type::kWithAvxXStateContext | format::dump_type::kIgnoreInaccessibleMemory;

// Without --type or --full: MiniDumpNormal's threads, stacks and modules, plus the memory map and
// each thread's times and start address, for a few KiB more. A reader of a crash needs the map to
// tell a wild pointer from a mapped one, and Breakpad's minidump_dump fails a dump without it.
// (The C and C++ APIs keep MiniDumpNormal's meaning for a type of 0.)
constexpr uint32_t kDefault = format::dump_type::kWithFullMemoryInfo | format::dump_type::kWithThreadInfo;

// ProcDump's default name: NAME_PID_YYMMDD_HHMMSS.dmp. Decided before the capture (the output
// is checked before the target is touched), from the process's comm as the capture reads it.
std::string default_name(pid_t pid, const char* extension) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%y%m%d_%H%M%S", &tm);
  std::string name;
  std::getline(std::ifstream(fmt::format("/proc/{}/comm", pid)), name);
  if (name.empty()) name = "process";  // gone: the capture says so, and no file is made
  for (char& c : name) {
    if (c == '/' || c == ' ') c = '_';
  }
  return fmt::format("{}_{}_{}.{}", name, pid, when, extension);
}

}  // namespace

uint32_t parse_dump_types(const std::string& list) {
  uint32_t type = 0;
  size_t at = 0;
  while (at <= list.size()) {
    size_t comma = list.find(',', at);
    std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    std::string bare = item.rfind("MiniDump", 0) == 0 ? item.substr(8) : item;
    bool found = false;
    for (const TypeName& t : kTypes) {
      if (bare == t.name) {
        type |= t.value;
        found = true;
      }
    }
    if (!found) throw std::invalid_argument(fmt::format("unknown dump type '{}' (e.g. WithFullMemory, MiniDumpWithHandleData)", item));
  }
  return type;
}

int parse_signal(const std::string& text) {
  std::string upper;
  for (char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (!upper.empty() && std::all_of(upper.begin(), upper.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    int n = upper.size() <= 3 ? std::stoi(upper) : 0;
    if (n >= 1 && n <= SIGRTMAX) return n;
    throw std::invalid_argument(fmt::format("--signal {}: signal numbers run from 1 to {}", text, SIGRTMAX));
  }
  std::string bare = upper.rfind("SIG", 0) == 0 ? upper.substr(3) : upper;
  for (int n = 1; n <= SIGRTMAX; ++n) {
    const char* abbrev = sigabbrev_np(n);
    if (abbrev != nullptr && bare == abbrev) return n;
  }
  throw std::invalid_argument(fmt::format("--signal {}: not a signal name or number (e.g. SIGSEGV, ABRT, 11)", text));
}

namespace {

// The bytes a dump of this type will read, for the progress bar: every readable region for a
// full-memory dump; otherwise too little to need a bar (0 = show a count only).
uint64_t expected_read_bytes(const Snapshot& s, DumpType type) {
  if (!(type & dump::kWithFullMemory)) return 0;
  uint64_t total = 0;
  for (const Region& r : s.memory_map()) {
    if (r.copy != RegionCopy::unreadable) total += r.end - r.start;
  }
  return total;
}

// The exception arguments are checked before the capture, so a typo never pauses the target.
std::optional<DumpException> exception_from(const DumpArgs& a) {
  if (a.signal.empty()) {
    if (a.exception_thread != 0 || a.signal_code != 0 || !a.exception_address.empty()) {
      throw std::invalid_argument("--exception-thread, --signal-code and --exception-address need --signal");
    }
    return std::nullopt;
  }
  DumpException e;
  e.signal = parse_signal(a.signal);
  e.code = a.signal_code;
  pid_t tid = a.exception_thread != 0 ? a.exception_thread : a.pid;
  struct stat st;
  if (stat(fmt::format("/proc/{}/task/{}", a.pid, tid).c_str(), &st) != 0) {
    throw std::invalid_argument(fmt::format("--exception-thread {}: not a thread of process {}", tid, a.pid));
  }
  e.thread_id = static_cast<uint32_t>(tid);
  if (!a.exception_address.empty()) {
    size_t used = 0;
    try {
      e.address = std::stoull(a.exception_address, &used, 0);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != a.exception_address.size()) {
      throw std::invalid_argument(fmt::format("--exception-address {}: not a number (e.g. 0x7f0012340000)", a.exception_address));
    }
  }
  return e;
}

}  // namespace

void add_dump_command(CLI::App& app, DumpArgs& a) {
  auto* cmd = app.add_subcommand(
      "dump",
      "Write a minidump (the default) or, with --format core, an ELF core file of process PID. "
      "The target is paused only while snapdump captures it: for a small minidump while its "
      "stacks are copied, for a full-memory minidump or a core while a copy-on-write clone of it "
      "is made (unless --no-clone). Prints where the dump went, its size, and how long the "
      "target was paused; with a clone, also how long one of its threads was stopped alone just "
      "before, while the helper the clone is forked from was made.\n\n"
      "A core is what the kernel would write if the process crashed, and what gdb's gcore writes: "
      "gdb EXE CORE, lldb -c CORE, eu-stack --core CORE and eu-unstrip -n --core CORE read it. Its "
      "memory follows the process's /proc/PID/coredump_filter (by default 0x33: heap, stacks, "
      "written data, shared anonymous memory, the first page of every ELF file mapped, the vDSO); "
      "--full takes every readable mapping whole. Pages never touched are holes in the file, so "
      "its allocated size (du) stays near the memory really used. --signal, --exception-thread, "
      "--signal-code and --exception-address become the core's NT_SIGINFO and pr_cursig, with that "
      "thread listed first; --type does not apply. docs/core.md has the details.\n\n"
      "Where the dump goes (-o) is checked before the target is touched, and every message "
      "names it as you gave it:\n"
      "  a new path        created only when the dump is whole: until then the file has no name "
      "(O_TMPFILE; where the file system lacks it, a temporary name beside it, removed on any "
      "failure or interruption). A failed or interrupted dump leaves nothing behind.\n"
      "  an existing file  kept: snapdump fails and says so, unless --force, which replaces it "
      "atomically once the new dump is whole.\n"
      "  a symbolic link   followed: these rules apply to what it names.\n"
      "  a FIFO, a character device (/dev/null), a UNIX socket, or - (standard output)\n"
      "                    written as a stream, front to back in one pass, e.g. -o - | zstd > "
      "x.dmp.zst, or -o - | ssh host 'cat > x.dmp'. A stream cut short (snapdump failed or was "
      "interrupted) is a truncated dump: `snapdump inspect` reports it as truncated, and the "
      "exit code is not 0. Standard output is refused when it is a terminal.\n"
      "  anything else     refused (a directory, a block device): snapdump never replaces what "
      "is not a regular file.\n"
      "Dumps are created mode 0600 whatever the umask, owned by the user running snapdump: a "
      "full dump holds the process's secrets.\n\n"
      "SIGINT, SIGTERM or SIGHUP stop the dump: the target runs on, no file is left, and "
      "snapdump exits by that signal (exit status 128 + its number). Even SIGKILL leaves no file "
      "where the file system has O_TMPFILE. A full dump's memory goes to a file with direct I/O "
      "where the file system allows, so gigabytes of dump neither evict the machine's page cache "
      "nor flood it with dirty pages. docs/minidump.md (\"Output\") has the details.\n");
  cmd->add_option("PID", a.pid, "process to dump")->required();
  cmd->add_option("--format", a.format,
                  "minidump (default): a Windows-style minidump for LLDB, Breakpad and WinDbg; core: an "
                  "ELF core file for gdb, LLDB and elfutils")
      ->check(CLI::IsMember({"minidump", "core"}));
  cmd->add_option("--coredump-filter", a.coredump_filter,
                  "with --format core: the coredump_filter bits to use instead of the process's own "
                  "/proc/PID/coredump_filter, in hex (e.g. 0x33, the kernel's default; 0x7f adds the "
                  "private and shared file mappings). See core(5)");
  cmd->add_option("-o,--output", a.output,
                  "where the dump goes: a path (default NAME_PID_YYMMDD_HHMMSS.dmp, or .core with "
                  "--format core, in the current directory, as ProcDump names them), a FIFO, device or socket, or - for standard "
                  "output (the summary line then goes to standard error)");
  cmd->add_flag("--force", a.force, "replace the regular file -o names if it exists (atomically, once the new dump is whole)");
  cmd->add_option("--type", a.types,
                  "MINIDUMP_TYPE names, comma-separated, with or without the MiniDump prefix, e.g. "
                  "WithFullMemory,WithHandleData. docs/minidump.md gives the Linux meaning of each; "
                  "a flag this build cannot honour is refused before the target is touched. Without "
                  "--type or --full: WithFullMemoryInfo,WithThreadInfo, that is MiniDumpNormal's "
                  "threads, stacks and modules plus the memory map and thread times (a few KiB more); "
                  "--type Normal gives MiniDumpNormal alone");
  cmd->add_flag("--full", a.full, "a core: every readable mapping whole (the files' code too; MADV_DONTDUMP memory "
                "still left out). A minidump: full memory with every information stream (WithFullMemory, WithFullMemoryInfo, WithThreadInfo, WithHandleData, WithUnloadedModules, WithTokenInformation, WithAvxXStateContext, IgnoreInaccessibleMemory)");
  cmd->add_flag("--no-clone", a.no_clone, "never clone: keep the target stopped while memory is copied");
  cmd->add_flag("--address-order", a.address_order,
                "write memory in address order. By default, with a clone, when the target is found writing its "
                "memory in sequence (a bump allocator, a ring buffer), a full minidump's or a core's memory is "
                "written from where it writes now round to the lowest address, so that the clone has already let "
                "go of the pages the target reaches and it copies none of them. A core is the same file either "
                "way; a minidump's Memory64List then lists its ranges in that order, which LLDB and Breakpad read");
  cmd->add_flag("--leave-unrestartable-running", a.leave_running,
                "do not stop threads blocked in a call that any stop turns into EINTR (epoll_wait, "
                "epoll_pwait, semop, semtimedop, rt_sigtimedwait), so a server waiting for events sees "
                "no EINTR: those threads keep running, and the dump holds only their instruction and "
                "stack pointers (read from /proc/PID/task/TID/syscall), not their other registers");
  cmd->add_option("--copy-cap", a.copy_cap_mib,
                  "with a VA clone: memory the kernel does not give the clone (MADV_WIPEONFORK regions, "
                  "whose flag is never changed, and MADV_DONTFORK regions whose flag could not be cleared "
                  "for the fork) is copied while the target is stopped, up to this many MiB in all; what "
                  "is beyond is left out of the dump, listed in its SnapdumpOmittedMemory stream and "
                  "named on standard error. 0 copies nothing in the stop")
      ->default_val(64)
      ->check(CLI::Range(size_t{0}, size_t{1} << 20));
  cmd->add_option("--capture", a.capture,
                  "PSS capture flags to add to those the dump type needs, comma-separated (e.g. "
                  "VaClone,ThreadContextExtended,CreateMeasurePerformance; `snapdump snapshot --help` "
                  "lists them)");
  cmd->add_option("--signal", a.signal,
                  "write an Exception stream for this signal (a name such as SIGSEGV or ABRT, or a "
                  "number): LLDB then shows the thread stopped with it and minidump_stackwalk "
                  "reports it as the crash reason. In a core: NT_SIGINFO and pr_cursig, which gdb "
                  "reports as \"Program terminated with signal\"");
  cmd->add_option("--exception-thread", a.exception_thread,
                  "the thread that took --signal (default: the main thread, whose id is PID)");
  cmd->add_option("--signal-code", a.signal_code, "the signal's si_code, stored as ExceptionFlags (default 0)");
  cmd->add_option("--exception-address", a.exception_address,
                  "the faulting address, stored as ExceptionAddress (default: the thread's "
                  "instruction pointer)");
  cmd->add_flag("--no-progress", a.no_progress,
                "no progress bar (one is drawn on stderr only when it is a terminal and the dump "
                "takes over a second)");
}

namespace {

// The destination, ready before the capture. An existing file gets the CLI's own advice.
DumpOutput open_output(const DumpArgs& a) {
  if (a.output == "-") return DumpOutput::to_fd(STDOUT_FILENO, "standard output");
  std::string path = a.output.empty() ? default_name(a.pid, a.format == "core" ? "core" : "dmp") : a.output;
  try {
    return DumpOutput::to_path(path, OutputOptions{a.force});
  } catch (const Error& e) {
    if (e.code() != Errc::already_exists) throw;
    throw Error(e.code(), fmt::format("{} (--force replaces it, or choose another -o)", e.what()), e.sys_errno());
  }
}

// What the message of an interrupted dump says happened to the destination.
std::string left_behind(const DumpOutput& output) {
  if (output.is_stream()) return fmt::format("the dump written to {} is incomplete (truncated)", escape_text(output.name()));
  if (output.kind() == DumpOutput::Kind::replaced_file) return fmt::format("{} was left as it was", escape_text(output.name()));
  return fmt::format("no dump was written to {}", escape_text(output.name()));
}

// What one format's writer reports, for the summary line.
struct Written {
  std::string summary;  // after "NAME: "
  std::vector<std::string> warnings;  // lines for standard error
};
using WriteFn = std::function<Written(const Snapshot&, DumpOutput&, DumpCallbacks*)>;

int dump_to(const DumpArgs& a, uint64_t expected_bytes_hint, DumpType type, CaptureFlags flags,
            const CaptureOptions& capture_options, InterruptGuard& guard, const WriteFn& write) {
  std::string outcome;
  {
    DumpOutput output = open_output(a);
    outcome = left_behind(output);
    guard.set_output(output.temporary_name(), outcome);
    guard.target_touched();
    try {
      Snapshot snapshot = Snapshot::capture(a.pid, flags, context::kAll, capture_options);
      ProgressBar progress(expected_bytes_hint == 0 ? expected_read_bytes(snapshot, type) : expected_bytes_hint,
                           !a.no_progress);
      if (InterruptGuard::signal_received() != 0) throw Error(Errc::cancelled, "interrupted during the capture");
      Written written = write(snapshot, output, &progress);
      progress.finish();
      // The target is let go first: in hold mode (--no-clone) it was stopped for the whole dump,
      // and the pause printed is that whole time.
      snapshot.release_target();
      double paused_ms = snapshot.pause().count() / 1e6;
      double helper_ms = snapshot.helper_thread_stop().count() / 1e6;
      snapshot.free();
      // Standard output holds the dump: the summary goes to standard error then.
      std::FILE* report = a.output == "-" ? stderr : stdout;
      std::string before = helper_ms > 0 ? fmt::format(" (and one of its threads {:.3f} ms just before, to make the "
                                                       "clone's fork helper)",
                                                       helper_ms)
                                         : std::string();
      fmt::print(report, "{}: {}; the target was paused {:.3f} ms{}\n", escape_text(output.name()), written.summary,
                 paused_ms, before);
      for (const std::string& warning : written.warnings) fmt::print(stderr, "snapdump: {}\n", warning);
      std::fflush(report);
      if (InterruptGuard::signal_received() != 0) outcome = fmt::format("{} was written whole before it", escape_text(output.name()));
    } catch (...) {
      if (InterruptGuard::signal_received() == 0) throw;
    }
  }
  // Interrupted: the snapshot and the output are gone by now (the target released, the
  // unfinished file discarded).
  if (InterruptGuard::signal_received() != 0) guard.die(outcome);
  return 0;
}

Written write_minidump_file(const Snapshot& snapshot, DumpOutput& output, DumpCallbacks* callbacks, DumpOptions options) {
  options.callbacks = callbacks;
  DumpResult result = write_minidump(snapshot, output, options);
  Written w;
  w.summary = fmt::format("{:.1f} MiB, {} streams, {:.1f} MiB of memory", result.bytes / 1048576.0, result.streams,
                          result.memory_bytes / 1048576.0);
  if (result.write_front != 0) {
    w.summary += fmt::format(" (written from {:#x}, where the target was writing, round to the lowest address)",
                             result.write_front);
  }
  if (result.zero_filled_bytes > 0) {
    w.warnings.push_back(fmt::format(
        "{} bytes of memory could not be read while the stream was written; they are zeros in the dump",
        result.zero_filled_bytes));
  }
  if (result.omitted_regions > 0) {
    w.warnings.push_back(fmt::format(
        "{} readable region(s), {:.1f} MiB, are not in the dump: the kernel does not clone them and they were over "
        "the pause's copy cap (--copy-cap), or they changed during the stop; the dump's SnapdumpOmittedMemory "
        "stream lists them (snapdump inspect shows it)",
        result.omitted_regions, result.omitted_bytes / 1048576.0));
  }
  return w;
}

Written write_core_file(const Snapshot& snapshot, DumpOutput& output, DumpCallbacks* callbacks, CoreOptions options) {
  options.callbacks = callbacks;
  CoreResult result = write_core(snapshot, output, options);
  Written w;
  w.summary = fmt::format("{:.1f} MiB ELF core, {} threads, {} segments, {:.1f} MiB of memory of which {:.1f} MiB "
                          "never touched ({})",
                          result.bytes / 1048576.0, result.threads, result.segments, result.memory_bytes / 1048576.0,
                          result.hole_bytes / 1048576.0, result.sparse ? "holes" : "zeros");
  if (result.write_front != 0) {
    w.summary += fmt::format(", written from {:#x}, where the target was writing, round to the lowest address",
                             result.write_front);
  }
  if (result.unreadable_bytes > 0) {
    w.warnings.push_back(fmt::format("{} bytes of memory could not be read; the core has {} there, as the kernel's would",
                                     result.unreadable_bytes, result.sparse ? "holes" : "zeros"));
  }
  // A core has no stream to list them in: standard error is where they are named.
  for (const Region& r : snapshot.memory_map()) {
    if (r.omitted == RegionOmission::none) continue;
    w.warnings.push_back(fmt::format("{:#x}-{:#x} {} is not in the core ({}): the kernel does not clone it and it was "
                                     "over the pause's copy cap (--copy-cap), or it changed during the stop",
                                     r.start, r.end, escape_text(r.path), to_string(r.omitted)));
  }
  return w;
}

// --format core: the core's own options, checked before the target is touched.
int run_core_dump(const DumpArgs& a) {
  if (!a.types.empty()) {
    throw std::invalid_argument("--type chooses a minidump's streams; a core's memory follows --coredump-filter or --full");
  }

  CoreOptions options;
  options.full = a.full;
  options.release_written_memory = true;
  options.follow_write_front = !a.address_order;
  if (!a.coredump_filter.empty()) {
    size_t used = 0;
    unsigned long value = 0;
    try {
      value = std::stoul(a.coredump_filter, &used, 16);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != a.coredump_filter.size() || value > 0x1ff) {
      throw std::invalid_argument(fmt::format("--coredump-filter {}: not coredump_filter bits (hex, at most 0x1ff)", a.coredump_filter));
    }
    options.coredump_filter = static_cast<uint32_t>(value);
  } else {
    options.coredump_filter = read_coredump_filter(a.pid);
  }
  options.signal = exception_from(a);
  CaptureFlags flags = capture_flags_for_core() | (a.capture.empty() ? 0 : parse_capture_flags(a.capture));
  if (a.no_clone && (flags & capture::kVaClone)) {
    throw std::invalid_argument("--no-clone and --capture VaClone contradict each other");
  }
  CaptureOptions capture_options;
  capture_options.leave_unrestartable_running = a.leave_running;
  capture_options.max_uncloneable_bytes = a.copy_cap_mib << 20;
  // A core holds the heap and every stack: a clone for a point in time, or the target held.
  if (a.no_clone) {
    capture_options.hold = true;
  } else {
    flags |= capture::kVaClone;
  }
  signal(SIGPIPE, SIG_IGN);  // as for a minidump (run_dump)
  InterruptGuard guard;
  return dump_to(a, 0, 0, flags, capture_options, guard, [options](const Snapshot& s, DumpOutput& o, DumpCallbacks* c) {
    return write_core_file(s, o, c, options);
  });
}

}  // namespace

int run_dump(const DumpArgs& a) {
  if (a.format == "core") return run_core_dump(a);
  if (!a.coredump_filter.empty()) throw std::invalid_argument("--coredump-filter applies to --format core");
  DumpOptions options;
  options.type = a.types.empty() && !a.full ? kDefault
                                           : (a.types.empty() ? 0 : parse_dump_types(a.types)) | (a.full ? kFull : 0);
  // One dump per capture here: the clone lets go of memory as it is written, so the target's
  // writes stop paying copy-on-write for it (docs/capture.md, "The cost of the clone").
  options.release_written_memory = true;
  options.follow_write_front = !a.address_order;
  check_dump_type(options.type);
  options.exception = exception_from(a);
  CaptureFlags flags = capture_flags_for(options.type) | (a.capture.empty() ? 0 : parse_capture_flags(a.capture));
  if (a.no_clone && (flags & capture::kVaClone)) {
    throw std::invalid_argument("--no-clone and --capture VaClone contradict each other");
  }
  CaptureOptions capture_options;
  capture_options.leave_unrestartable_running = a.leave_running;
  capture_options.max_uncloneable_bytes = a.copy_cap_mib << 20;
  if (options.type & dump::kWithFullMemory) {
    if (a.no_clone) {
      capture_options.hold = true;  // consistent memory without a clone: keep it stopped
    } else {
      flags |= capture::kVaClone;
    }
  }
  // A stream's reader that goes away (-o - | head) is an error with a message, not a silent
  // death by SIGPIPE. Nothing is exec'd from here on, so no child inherits the setting.
  signal(SIGPIPE, SIG_IGN);
  InterruptGuard guard;
  return dump_to(a, 0, options.type, flags, capture_options, guard, [options](const Snapshot& s, DumpOutput& o, DumpCallbacks* c) {
    return write_minidump_file(s, o, c, options);
  });
}

}  // namespace snapdump::cli
