// snapdump errors: one exception type carrying a cause a program can branch on and a message
// a person can act on.
#pragma once

#include <stdexcept>
#include <string>

namespace snapdump {

enum class Errc {
  no_such_process,    // the PID does not exist (or exited before capture began)
  process_exited,     // the target exited while it was being captured
  permission_denied,  // ptrace or /proc access refused (uid, capability, Yama, LSM)
  already_traced,     // another tracer (debugger, strace) is attached
  not_supported,      // the kernel, CPU or target cannot do what was asked
  invalid_argument,   // a bad flag combination or parameter
  resource_exhausted, // out of memory, fork refused (overcommit, pid limit)
  io_error,           // a read or write failed
  memory_unreadable,  // the target's memory could not be read (and the dump may not leave it out)
  no_space,           // the file system is full
  cancelled,          // a callback asked to stop
  corrupt_input,      // a file that does not parse
  not_captured,       // the snapshot does not hold what was asked for (flag not given)
  already_exists,     // an output file exists and replacing it was not asked for
  internal,           // a bug in snapdump: please report it
};

// Human-readable name of a cause ("permission denied", ...).
const char* to_string(Errc code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Errc code, const std::string& message, int sys_errno = 0)
      : std::runtime_error(message), code_(code), sys_errno_(sys_errno) {}
  Errc code() const noexcept { return code_; }
  // The errno behind the error, 0 when there was none.
  int sys_errno() const noexcept { return sys_errno_; }

 private:
  Errc code_;
  int sys_errno_;
};

// Maps an errno from a syscall on the target to the cause a user should see.
Errc errc_from_errno(int err) noexcept;

}  // namespace snapdump
