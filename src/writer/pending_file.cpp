// PendingFile: a dump file that no one sees until it is whole.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include <fmt/format.h>

#include "linux/own_fd.h"
#include "writer/bulk_writer.h"
#include "writer/file_error.h"
#include "writer/output.h"

namespace snapdump::writer {
namespace {

// O_TMPFILE is refused with EOPNOTSUPP by a file system without it, EISDIR by kernels older
// than 3.11 (which take the flag for O_DIRECTORY), EINVAL by some FUSE and network file systems.
bool tmpfile_unsupported(int err) { return err == EOPNOTSUPP || err == EISDIR || err == EINVAL; }

// Test hook: SNAPDUMP_TEST_NO_O_TMPFILE=1 makes every file system look like one without
// O_TMPFILE, so tests reach the temporary-name path on the machines they run on.
bool tmpfile_disabled_for_tests() {
  const char* v = std::getenv("SNAPDUMP_TEST_NO_O_TMPFILE");
  return v != nullptr && v[0] == '1';
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir == ".") return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Dumps hold what a process keeps secret (keys, tokens, its environment): readable by their
// owner only, whatever the umask left (or took away: 0277 would make the file 0400).
void make_private(int fd, const std::string& subject) {
  if (fchmod(fd, 0600) != 0) throw_file_error(fmt::format("cannot make {} private (mode 0600)", subject), errno);
}

}  // namespace

PendingFile::PendingFile(int dir_fd, std::string dir_path, std::string name, bool replace, std::string subject)
    : dir_fd_(dir_fd), dir_path_(std::move(dir_path)), name_(std::move(name)), subject_(std::move(subject)),
      replace_(replace) {
  try {
    if (!tmpfile_disabled_for_tests() && os::own_fds_reachable()) {
      fd_ = openat(dir_fd_, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
      if (fd_ >= 0) {
        anonymous_ = true;
      } else if (!tmpfile_unsupported(errno)) {
        throw_file_error(fmt::format("cannot create {}", subject_), errno);
      }
    }
    if (anonymous_) {
      // Replacing needs a name to rename over the old file (linkat never replaces): chosen
      // now, so that a signal handler knows it before it can exist.
      if (replace_) {
        temp_name_ = unique_temporary_name(0);
        temp_path_ = join(dir_path_, temp_name_);
      }
    } else {
      create_named();
    }
    make_private(fd_, subject_);
  } catch (...) {
    discard();
    throw;
  }
}

std::string PendingFile::unique_temporary_name(int attempt) const {
  std::string base = fmt::format("{}.snapdump-partial-{}", name_, getpid());
  return attempt == 0 ? base : fmt::format("{}-{}", base, attempt);
}

void PendingFile::create_named() {
  // O_EXCL: a name left by a snapdump of the same PID that was SIGKILLed is never written
  // through (it could be a link planted by someone else); the next name is tried.
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string candidate = unique_temporary_name(attempt);
    fd_ = openat(dir_fd_, candidate.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ >= 0) {
      temp_name_ = candidate;
      temp_path_ = join(dir_path_, temp_name_);
      return;
    }
    if (errno != EEXIST) throw_file_error(fmt::format("cannot create {}", subject_), errno);
  }
  throw_file_error(fmt::format("cannot create {} (100 temporary names beside it are taken)", subject_), EEXIST);
}

int PendingFile::open_direct() const {
#ifdef STATX_DIOALIGN
  struct statx sx {};
  if (statx(fd_, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)) {
    if (sx.stx_dio_offset_align == 0 || sx.stx_dio_offset_align > BulkBuffer::kAlignment ||
        sx.stx_dio_mem_align > BulkBuffer::kAlignment) {
      return -1;
    }
  }
#endif
  // Where statx cannot say, a direct write that fails with EINVAL sends the sink back to the
  // page cache (Sink::write_bulk).
  return os::reopen(fd_, O_WRONLY | O_DIRECT);
}

void PendingFile::commit() {
  if (fsync(fd_) != 0) throw_file_error(fmt::format("cannot write {} to stable storage", subject_), errno);
  const char* name = name_.c_str();
  if (anonymous_ && !replace_) {
    if (os::link_anonymous(fd_, dir_fd_, name) != 0) {
      if (errno == EEXIST) {
        throw Error(Errc::already_exists,
                    fmt::format("{} appeared while the dump was written; it is kept, and the dump discarded", subject_),
                    EEXIST);
      }
      throw_file_error(fmt::format("cannot put {} in place", subject_), errno);
    }
  } else if (anonymous_) {
    if (os::link_anonymous(fd_, dir_fd_, temp_name_.c_str()) != 0) {
      throw_file_error(fmt::format("cannot put {} in place", subject_), errno);
    }
    if (renameat(dir_fd_, temp_name_.c_str(), dir_fd_, name) != 0) {
      int err = errno;
      unlinkat(dir_fd_, temp_name_.c_str(), 0);
      throw_file_error(fmt::format("cannot replace {}", subject_), err);
    }
  } else if (replace_) {
    if (renameat(dir_fd_, temp_name_.c_str(), dir_fd_, name) != 0) {
      throw_file_error(fmt::format("cannot replace {}", subject_), errno);
    }
  } else if (renameat2(dir_fd_, temp_name_.c_str(), dir_fd_, name, RENAME_NOREPLACE) != 0) {
    int err = errno;
    if (err == EINVAL || err == ENOSYS || err == EOPNOTSUPP) {
      // A file system without RENAME_NOREPLACE: a hard link is just as exclusive.
      if (linkat(dir_fd_, temp_name_.c_str(), dir_fd_, name, 0) == 0) {
        unlinkat(dir_fd_, temp_name_.c_str(), 0);
        err = 0;
      } else {
        err = errno;
      }
    }
    if (err == EEXIST) {
      throw Error(Errc::already_exists,
                  fmt::format("{} appeared while the dump was written; it is kept, and the dump discarded", subject_),
                  EEXIST);
    }
    if (err != 0) throw_file_error(fmt::format("cannot put {} in place", subject_), err);
  }
  committed_ = true;
  // The new name is durable once its directory is: best effort (a file system may refuse).
  int dir = openat(dir_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)fsync(dir);
    close(dir);
  }
  int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0 && errno != EINTR) {
    // The bytes were synced above; a close error now reports nothing about them.
  }
}

void PendingFile::discard() noexcept {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  // A name only ever ours (O_EXCL, or chosen for the replace link and linked only by commit).
  if (!committed_ && !temp_name_.empty()) unlinkat(dir_fd_, temp_name_.c_str(), 0);
  temp_name_.clear();
  if (dir_fd_ >= 0) close(dir_fd_);
  dir_fd_ = -1;
}

}  // namespace snapdump::writer
