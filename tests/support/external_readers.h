// Runs real third-party minidump readers on a dump file and parses what they print, so tests
// can check snapdump's dumps against independent implementations:
//   - LLDB 16 (Debian package lldb-16: /usr/bin/lldb-16), driven with --batch;
//   - Breakpad's minidump_stackwalk and minidump_dump, prebuilt in the npm package
//     minidump@0.26.0, installed by scripts/setup.sh into <repo>/node_modules (git-ignored).
// The path helpers return "" when a tool is missing; tests should fail, not skip, then.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace snapdump::testing {

struct CommandResult {
  int exit_code = -1;  // the exit code; 128 + N if killed by signal N; 127 if exec failed
  std::string out;
  std::string err;
  bool timed_out = false;
};

// Runs argv (argv[0] is a path, no shell, no PATH lookup) with stdin on /dev/null, captures
// stdout and stderr, and SIGKILLs the child's process group after timeout_ms.
CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms = 60000);

// "/usr/bin/lldb-16", or "" if it is not installed.
std::string lldb_path();
// <repo>/node_modules/minidump/bin/linux-x64/minidump_stackwalk (or minidump_dump), or "".
std::string minidump_stackwalk_path();
std::string minidump_dump_path();

// lldb-16 --batch --no-lldbinit -O 'settings set use-color false' -c DUMP -o CMD1 -o CMD2 ...
// LLDB prints the commands and their results to stdout ("(lldb) CMD" echo lines included).
// --batch stops at the first failing command (its error goes to stderr). With `executable`, it
// comes first (lldb EXE -c DUMP), as a user opens a core whose first NT_FILE entry is not the
// program (LLDB takes that entry for the executable otherwise).
CommandResult lldb_batch(const std::string& dump, const std::vector<std::string>& commands,
                         int timeout_ms = 60000, const std::string& executable = "");

// Attaches lldb-16 to the live process `pid`, has LLDB's own minidump writer write it to
// `path` and detaches, leaving the process running: `process save-core --plugin-name=minidump
// --style stack PATH` (LLDB 16 writes no minidump without `--style stack`, the only style its
// minidump plugin takes: it refuses `--style full` and the default with "no ObjectFile plugins
// were able to save a core"), then `process detach`.
CommandResult lldb_save_minidump(int pid, const std::string& path, int timeout_ms = 120000);

struct LldbFrame {
  std::uint64_t pc = 0;
  std::string module;    // "libc.so.6", "snapdump_target"; "" when LLDB knows no module
  std::string function;  // "park_in_nanosleep", "(anonymous namespace)::read_line"; "" if none
};

struct LldbThread {
  std::uint64_t tid = 0;  // from `thread list` ("tid = 32588"); 0 if only `bt all` was seen
  std::uint32_t index = 0;  // LLDB's thread index (#1, #2, ...)
  std::string name;         // "name = 'sd-nanosleep'" when LLDB shows one, else ""
  // Per frame, innermost first (frame #0), outermost last: the function name without its
  // arguments, offset or source location, or the pc as "0x..." when LLDB names no function.
  std::vector<std::string> frames;
  std::vector<LldbFrame> frame_details;  // the same frames, with pc and module
};

// Parses `thread list` and `bt all` output (either or both, in any order; a thread shown
// twice keeps the frames of its last appearance) into threads ordered by LLDB index.
std::vector<LldbThread> parse_lldb_backtraces(const std::string& lldb_output);

// One parsed frame line, without the "frame #N: " prefix, e.g.
// "0x00005591e46ffb01 snapdump_target`park_in_nanosleep(argument=<unavailable>) at p.cpp:39:18"
LldbFrame parse_lldb_frame(const std::string& text);

struct LldbModule {
  std::string path;  // "/lib/x86_64-linux-gnu/libc.so.6", "[vdso](0x00007f07e7549000)"
  std::string uuid;  // "93AC61EC-5A8E-B139-6F9F-BD350E3169A5-58528A40" (the build id), or ""
  std::uint64_t base = 0;
  std::string symbol_file;  // the indented line after it, e.g. a /usr/lib/debug file, or ""
};

// Parses `image list` lines: "[  0] 93AC61EC-...-58528A40 0x00007f07e701e000 /path/to/file ".
std::vector<LldbModule> parse_lldb_image_list(const std::string& lldb_output);

// LLDB's UUID text ("93AC61EC-5A8E-...") as lowercase hex without dashes ("93ac61ec5a8e..."),
// which for an ELF module is its GNU build id.
std::string lldb_uuid_to_hex(const std::string& uuid);

struct StackwalkModule {
  std::string name;      // code file base name: "libc.so.6"
  std::string debug_id;  // Breakpad debug identifier: "EC61AC938E5A39B16F9FBD350E3169A50"
  std::uint64_t base = 0;
  std::uint64_t end = 0;  // last byte, inclusive
  bool main = false;
};

struct StackwalkResult {
  bool ok = false;  // exit code 0, not timed out, and the output had an "OS|" line
  std::string os;   // "Linux"
  std::string cpu;  // "amd64"
  std::string crash_reason;  // "No crash", "SIGSTOP", ...
  int crashed_thread = -1;   // thread index from the "Crash|" line, -1 if none
  std::vector<std::string> modules;  // module names, in output order
  std::vector<StackwalkModule> module_details;
  // thread index -> frames, innermost first: the function name if Breakpad has symbols for
  // it, else "module + 0xoffset" (as its human-readable output prints it), else "0xaddress".
  // Threads without frames (no readable context) do not appear.
  std::map<int, std::vector<std::string>> thread_frames;
  std::string raw;  // stdout of `minidump_stackwalk -m`
  std::string err;  // its stderr (Breakpad's INFO/ERROR log)
};

// Runs `minidump_stackwalk -m DUMP` and parses its machine-readable output.
StackwalkResult run_minidump_stackwalk(const std::string& dump, int timeout_ms = 60000);
// The same with Breakpad symbols: `minidump_stackwalk -m DUMP SYMBOL_STORE`.
StackwalkResult run_minidump_stackwalk(const std::string& dump, const std::string& symbol_store,
                                       int timeout_ms = 60000);

// <repo>/node_modules/minidump/bin/linux-x64/dump_syms (Breakpad's, from the same package), or "".
std::string dump_syms_path();
// Runs dump_syms on the ELF file `binary` and stores its symbols where minidump_stackwalk looks
// for them: STORE/NAME/DEBUG_ID/NAME.sym, NAME and DEBUG_ID from the MODULE line it writes.
// Returns "" on success, else what went wrong.
std::string write_breakpad_symbols(const std::string& binary, const std::string& store);
StackwalkResult parse_minidump_stackwalk(const std::string& machine_output);

struct MinidumpDumpResult {
  // minidump_dump's exit code is 1 whenever one of the streams it checks (thread, module,
  // memory, memory info list, ...) is missing or unreadable, so `ok` means exit code 0.
  bool ok = false;
  int exit_code = -1;
  std::map<std::uint32_t, std::string> streams;  // "Streams:" section: type -> "MD_..." name
  std::vector<std::uint64_t> thread_ids;         // "thread_id = 0x382", in order
  std::vector<std::string> thread_names;         // "thread_name = \"sd-heartbeat\""
  std::vector<std::string> module_files;         // "(code_file) = \"/path\""
  std::vector<std::string> errors;               // stderr lines with "ERROR:", prefix removed
  std::string raw;                               // stdout
  std::string err;                               // stderr
};

MinidumpDumpResult run_minidump_dump(const std::string& dump, int timeout_ms = 60000);
// Parses stdout and stderr of minidump_dump (exit_code is left to the caller).
MinidumpDumpResult parse_minidump_dump(const std::string& out, const std::string& err);

}  // namespace snapdump::testing
