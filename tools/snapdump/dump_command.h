// `snapdump dump PID`: capture and write a minidump.
#pragma once

#include <sys/types.h>

#include <string>

#include <CLI/CLI.hpp>

namespace snapdump::cli {

struct DumpArgs {
  pid_t pid = 0;
  std::string output;
  std::string types;
  bool full = false;
  bool no_clone = false;
};

void add_dump_command(CLI::App& app, DumpArgs& args);
int run_dump(const DumpArgs& args);

// Parses "WithFullMemory,MiniDumpWithHandleData" into MINIDUMP_TYPE bits; throws
// std::invalid_argument naming an unknown name.
uint32_t parse_dump_types(const std::string& list);

}  // namespace snapdump::cli
