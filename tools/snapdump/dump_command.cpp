#include "dump_command.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "capture_flags.h"
#include "progress.h"
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

// ProcDump's default name: NAME_PID_YYMMDD_HHMMSS.dmp
std::string default_name(const Snapshot& s) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%y%m%d_%H%M%S", &tm);
  std::string name = s.process().name.empty() ? "process" : std::string(s.process().name);
  for (char& c : name) {
    if (c == '/' || c == ' ') c = '_';
  }
  return fmt::format("{}_{}_{}.dmp", name, s.pid(), when);
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
      "Write a minidump of process PID. The target is paused only while snapdump captures it: "
      "for a small dump while its stacks are copied, for a full-memory dump while a "
      "copy-on-write clone of it is made (unless --no-clone). Prints where the dump went, its "
      "size, and how long the target was paused. The file is written under a temporary name and "
      "renamed when complete, so a failed dump leaves nothing behind. A full dump's memory goes "
      "to the file with direct I/O where the file system allows, so gigabytes of dump neither "
      "evict the machine's page cache nor flood it with dirty pages.");
  cmd->add_option("PID", a.pid, "process to dump")->required();
  cmd->add_option("-o,--output", a.output, "dump file (default NAME_PID_YYMMDD_HHMMSS.dmp, as ProcDump names them)");
  cmd->add_option("--type", a.types,
                  "MINIDUMP_TYPE names, comma-separated, with or without the MiniDump prefix, e.g. "
                  "WithFullMemory,WithHandleData. docs/minidump.md gives the Linux meaning of each; "
                  "a flag this build cannot honour is refused before the target is touched. Without "
                  "--type or --full: WithFullMemoryInfo,WithThreadInfo, that is MiniDumpNormal's "
                  "threads, stacks and modules plus the memory map and thread times (a few KiB more); "
                  "--type Normal gives MiniDumpNormal alone");
  cmd->add_flag("--full", a.full, "full memory with every information stream (WithFullMemory, WithFullMemoryInfo, WithThreadInfo, WithHandleData, WithUnloadedModules, WithTokenInformation, WithAvxXStateContext, IgnoreInaccessibleMemory)");
  cmd->add_flag("--no-clone", a.no_clone, "never clone: keep the target stopped while memory is copied");
  cmd->add_option("--capture", a.capture,
                  "PSS capture flags to add to those the dump type needs, comma-separated (e.g. "
                  "VaClone,ThreadContextExtended,CreateMeasurePerformance; `snapdump snapshot --help` "
                  "lists them)");
  cmd->add_option("--signal", a.signal,
                  "write an Exception stream for this signal (a name such as SIGSEGV or ABRT, or a "
                  "number): LLDB then shows the thread stopped with it and minidump_stackwalk "
                  "reports it as the crash reason");
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

int run_dump(const DumpArgs& a) {
  DumpOptions options;
  options.type = a.types.empty() && !a.full ? kDefault
                                           : (a.types.empty() ? 0 : parse_dump_types(a.types)) | (a.full ? kFull : 0);
  check_dump_type(options.type);
  options.exception = exception_from(a);
  CaptureFlags flags = capture_flags_for(options.type) | (a.capture.empty() ? 0 : parse_capture_flags(a.capture));
  if (a.no_clone && (flags & capture::kVaClone)) {
    throw std::invalid_argument("--no-clone and --capture VaClone contradict each other");
  }
  CaptureOptions capture_options;
  if (options.type & dump::kWithFullMemory) {
    if (a.no_clone) {
      capture_options.hold = true;  // consistent memory without a clone: keep it stopped
    } else {
      flags |= capture::kVaClone;
    }
  }
  Snapshot snapshot = Snapshot::capture(a.pid, flags, context::kAll, capture_options);
  std::string path = a.output.empty() ? default_name(snapshot) : a.output;
  ProgressBar progress(expected_read_bytes(snapshot, options.type), !a.no_progress);
  options.callbacks = &progress;
  DumpResult result = write_minidump(snapshot, path, options);
  progress.finish();
  double paused_ms = snapshot.pause().count() / 1e6;
  snapshot.free();
  fmt::print("{}: {:.1f} MiB, {} streams, {:.1f} MiB of memory; the target was paused {:.3f} ms\n", path,
             result.bytes / 1048576.0, result.streams, result.memory_bytes / 1048576.0, paused_ms);
  return 0;
}

}  // namespace snapdump::cli
