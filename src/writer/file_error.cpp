#include "writer/file_error.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace snapdump::writer {

Errc file_errc(int err) noexcept {
  switch (err) {
    case EACCES:
    case EPERM:
    case EROFS: return Errc::permission_denied;
    case ENOSPC:
    case EDQUOT: return Errc::no_space;
    case EEXIST: return Errc::already_exists;
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG: return Errc::invalid_argument;
    default: return Errc::io_error;
  }
}

void throw_file_error(const std::string& what, int err) {
  throw Error(file_errc(err), fmt::format("{}: {}", what, std::strerror(err)), err);
}

}  // namespace snapdump::writer
