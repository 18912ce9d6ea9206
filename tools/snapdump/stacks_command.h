// `snapdump stacks PID`: every thread's backtrace, from a capture with the smallest pause (the
// threads' registers and the stack pages in use, copied while the target is stopped), unwound
// after the target has resumed.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

#include <CLI/CLI.hpp>

namespace snapdump::cli {

struct StacksArgs {
  pid_t pid = 0;
  bool json = false;
  bool leave_running = false;  // --leave-unrestartable-running
  bool no_debuginfod = false;
  size_t max_frames = 256;
};

void add_stacks_command(CLI::App& app, StacksArgs& args);
int run_stacks(const StacksArgs& args);

// Text of --help shared with `inspect --stacks`: how debug information is found.
extern const char* const kDebugInfoHelp;

}  // namespace snapdump::cli
