// Operations on snapdump's own open files that Linux offers only through /proc/self/fd: opening
// a file again with other flags (O_DIRECT beside a buffered descriptor) and giving an anonymous
// O_TMPFILE file its name. The dump writer's output files use them (src/writer/output_file.h).
#pragma once

namespace snapdump::os {

// True if /proc/self/fd can be used here (procfs mounted and reachable): without it an
// O_TMPFILE file could not be reopened, and could be named only with CAP_DAC_READ_SEARCH or a
// kernel of 6.10 or later.
bool own_fds_reachable() noexcept;

// The file `fd` refers to, opened again with `flags` (O_CLOEXEC added): a new open file
// description, so flags such as O_DIRECT do not touch `fd`'s. -1 with errno on failure.
int reopen(int fd, int flags) noexcept;

// Links the anonymous file `fd` (opened with O_TMPFILE, without O_EXCL) as `name` in the
// directory `dir_fd`. Never replaces: EEXIST if the name is taken. 0, or -1 with errno.
int link_anonymous(int fd, int dir_fd, const char* name) noexcept;

}  // namespace snapdump::os
