// `snapdump dump PID`: capture and write a minidump or an ELF core.
#pragma once

#include <sys/types.h>

#include <string>

#include <CLI/CLI.hpp>

namespace snapdump::cli {

struct DumpArgs {
  pid_t pid = 0;
  std::string output;          // -o: a path, or "-" for standard output
  bool force = false;          // --force: replace an existing regular file
  std::string types;
  bool full = false;
  bool no_clone = false;
  bool address_order = false;
  bool leave_running = false;  // --leave-unrestartable-running
  std::string capture;         // --capture: PSS flags added to those the type needs
  std::string signal;          // --signal: number or name; empty = no Exception stream
  pid_t exception_thread = 0;  // --exception-thread (default: the main thread)
  int signal_code = 0;         // --signal-code: si_code
  std::string exception_address;  // --exception-address (default: the thread's rip)
  bool no_progress = false;    // --no-progress: no progress bar even on a terminal
  size_t copy_cap_mib = 64;    // --copy-cap: CaptureOptions::max_uncloneable_bytes in MiB
  std::string format = "minidump";  // --format: minidump or core
  std::string coredump_filter;      // --coredump-filter: hex bits (default: the process's own)
};

void add_dump_command(CLI::App& app, DumpArgs& args);
int run_dump(const DumpArgs& args);

// Parses "WithFullMemory,MiniDumpWithHandleData" into MINIDUMP_TYPE bits; throws
// std::invalid_argument naming an unknown name.
uint32_t parse_dump_types(const std::string& list);

// "SIGSEGV", "SEGV", "segv" or "11" -> 11; throws std::invalid_argument for anything else.
int parse_signal(const std::string& text);

}  // namespace snapdump::cli
