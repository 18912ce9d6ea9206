#include "dump_command.h"

#include <unistd.h>

#include <ctime>
#include <stdexcept>

#include <fmt/format.h>

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
                           format::dump_type::kIgnoreInaccessibleMemory;

// ProcDump's default name: NAME_PID_YYMMDD_HHMMSS.dmp
std::string default_name(const Snapshot& s) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%y%m%d_%H%M%S", &tm);
  std::string name = s.process().name.empty() ? "process" : s.process().name;
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

void add_dump_command(CLI::App& app, DumpArgs& a) {
  auto* cmd = app.add_subcommand(
      "dump",
      "Write a minidump of process PID. The target is paused only while snapdump captures it: "
      "for a small dump while its stacks are copied, for a full-memory dump while a "
      "copy-on-write clone of it is made (unless --no-clone). Prints where the dump went, its "
      "size, and how long the target was paused. The file is written under a temporary name and "
      "renamed when complete, so a failed dump leaves nothing behind.");
  cmd->add_option("PID", a.pid, "process to dump")->required();
  cmd->add_option("-o,--output", a.output, "dump file (default NAME_PID_YYMMDD_HHMMSS.dmp, as ProcDump names them)");
  cmd->add_option("--type", a.types,
                  "MINIDUMP_TYPE names, comma-separated, with or without the MiniDump prefix, e.g. "
                  "WithFullMemory,WithHandleData. docs/minidump.md gives the Linux meaning of each; "
                  "a flag this build cannot honour is refused before the target is touched");
  cmd->add_flag("--full", a.full, "full memory with every information stream (WithFullMemory, WithFullMemoryInfo, WithThreadInfo, WithHandleData, IgnoreInaccessibleMemory)");
  cmd->add_flag("--no-clone", a.no_clone, "never clone: keep the target stopped while memory is copied");
}

int run_dump(const DumpArgs& a) {
  DumpOptions options;
  options.type = (a.types.empty() ? 0 : parse_dump_types(a.types)) | (a.full ? kFull : 0);
  check_dump_type(options.type);
  CaptureFlags flags = capture_flags_for(options.type);
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
  DumpResult result = write_minidump(snapshot, path, options);
  double paused_ms = snapshot.pause().count() / 1e6;
  snapshot.free();
  fmt::print("{}: {:.1f} MiB, {} streams, {:.1f} MiB of memory; the target was paused {:.3f} ms\n", path,
             result.bytes / 1048576.0, result.streams, result.memory_bytes / 1048576.0, paused_ms);
  return 0;
}

}  // namespace snapdump::cli
