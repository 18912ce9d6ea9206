#include "snapdump/error.h"

#include <cerrno>

namespace snapdump {

const char* to_string(Errc code) noexcept {
  switch (code) {
    case Errc::no_such_process: return "no such process";
    case Errc::process_exited: return "process exited during capture";
    case Errc::permission_denied: return "permission denied";
    case Errc::already_traced: return "process is already traced";
    case Errc::not_supported: return "not supported";
    case Errc::invalid_argument: return "invalid argument";
    case Errc::resource_exhausted: return "resource exhausted";
    case Errc::io_error: return "I/O error";
    case Errc::memory_unreadable: return "memory unreadable";
    case Errc::no_space: return "no space left on device";
    case Errc::cancelled: return "cancelled";
    case Errc::corrupt_input: return "corrupt input";
    case Errc::not_captured: return "not captured";
    case Errc::already_exists: return "file exists";
    case Errc::internal: return "internal error";
  }
  return "unknown error";
}

Errc errc_from_errno(int err) noexcept {
  switch (err) {
    case ESRCH:
    case ENOENT: return Errc::no_such_process;
    case EPERM:
    case EACCES: return Errc::permission_denied;
    case ENOMEM:
    case EAGAIN: return Errc::resource_exhausted;
    case ENOSPC:
    case EDQUOT: return Errc::no_space;
    case EINVAL: return Errc::invalid_argument;
    case ENOSYS:
    case EOPNOTSUPP: return Errc::not_supported;
    default: return Errc::io_error;
  }
}

}  // namespace snapdump
