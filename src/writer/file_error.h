// Errors of the files a dump is written to, named the way their user named them.
#pragma once

#include <string>

#include "snapdump/error.h"

namespace snapdump::writer {

// The cause a user should see for a failed file operation: permission_denied (EACCES, EPERM,
// EROFS), no_space (ENOSPC, EDQUOT), already_exists (EEXIST), invalid_argument (a path that
// cannot name a file: ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG), else io_error.
Errc file_errc(int err) noexcept;

// Throws Error(file_errc(err), "WHAT: strerror(err)", err).
[[noreturn]] void throw_file_error(const std::string& what, int err);

}  // namespace snapdump::writer
