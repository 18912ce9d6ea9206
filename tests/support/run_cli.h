// Runs the snapdump command built in this tree, as a user types it: the one way the tests call
// the CLI (integration tests of every command go through it).
#pragma once

#include <string>
#include <vector>

#include "support/external_readers.h"

namespace snapdump::testing {

// SNAPDUMP_CLI_PATH followed by args, through run_command (no shell, stdin on /dev/null).
// The timeout is generous: the tests run one at a time on a loaded CI machine, and a full dump
// or a conversion read by gdb takes seconds there.
CommandResult run_cli(const std::vector<std::string>& args, int timeout_ms = 180000);

}  // namespace snapdump::testing
