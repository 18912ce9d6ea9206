#include "support/run_cli.h"

namespace snapdump::testing {

CommandResult run_cli(const std::vector<std::string>& args, int timeout_ms) {
  std::vector<std::string> argv;
  argv.reserve(args.size() + 1);
  argv.emplace_back(SNAPDUMP_CLI_PATH);
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout_ms);
}

}  // namespace snapdump::testing
