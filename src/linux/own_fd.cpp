#include "linux/own_fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "linux/proc_files.h"

namespace snapdump::os {

bool own_fds_reachable() noexcept { return access(ProcPath(getpid(), "fd").c_str(), X_OK) == 0; }

int reopen(int fd, int flags) noexcept { return open(ProcPath(getpid(), "fd", fd).c_str(), flags | O_CLOEXEC); }

int link_anonymous(int fd, int dir_fd, const char* name) noexcept {
  // AT_EMPTY_PATH needs no /proc, but before Linux 6.10 it also needs CAP_DAC_READ_SEARCH
  // (ENOENT without it); the /proc/self/fd link works for any file this process opened.
  if (linkat(fd, "", dir_fd, name, AT_EMPTY_PATH) == 0) return 0;
  if (errno == EEXIST) return -1;
  return linkat(AT_FDCWD, ProcPath(getpid(), "fd", fd).c_str(), dir_fd, name, AT_SYMLINK_FOLLOW);
}

}  // namespace snapdump::os
