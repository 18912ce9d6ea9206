// A real debuginfod server (elfutils' `debuginfod`, Debian's package debuginfod) over a directory
// of debug files, for the tests of `snapdump stacks`: started on a free local port with its own
// database, and killed (it is this process's child) when the object goes.
#pragma once

#include <sys/types.h>

#include <string>

namespace snapdump::testing {

class DebuginfodServer {
 public:
  // Serves the ELF and DWARF files under `directory` (-F), with its database and log in
  // `state_directory`. Throws std::runtime_error if debuginfod is not installed or does not start.
  DebuginfodServer(const std::string& directory, const std::string& state_directory);
  ~DebuginfodServer();
  DebuginfodServer(const DebuginfodServer&) = delete;
  DebuginfodServer& operator=(const DebuginfodServer&) = delete;

  std::string url() const;  // http://127.0.0.1:PORT
  // Waits until the server answers for the debug information of `build_id_hex` (it indexes the
  // directory in the background after it starts); false after `timeout_ms`.
  bool wait_serves(const std::string& build_id_hex, int timeout_ms);
  std::string log() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string state_directory_;
};

// The path of the debuginfod program, or "" if it is not installed.
std::string debuginfod_path();

}  // namespace snapdump::testing
