// `snapdump convert IN -o OUT`: a dump in one format written in another. A minidump (snapdump's,
// Breakpad's, Crashpad's, LLDB's) becomes an ELF core that gdb, LLDB and eu-stack open with the
// program's binaries, holding exactly the memory the minidump holds; an ELF core becomes a
// minidump holding every byte the core holds. What the input did not carry is said on standard
// error, never made up.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace snapdump::cli {

struct ConvertArgs {
  std::string input;
  std::string output;  // -o: a path, or - for standard output
  bool force = false;
};

void add_convert_command(CLI::App& app, ConvertArgs& args);
int run_convert(const ConvertArgs& args);

}  // namespace snapdump::cli
