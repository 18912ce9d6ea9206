#include "writer/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/error.h"

namespace snapdump::writer {

FileSink::FileSink(const std::string& path)
    : path_(path), temp_path_(fmt::format("{}.snapdump-partial-{}", path, getpid())) {
  fd_ = open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create", errno);
}

FileSink::~FileSink() {
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(temp_path_.c_str());
}

void FileSink::fail(const char* what, int err) const {
  throw Error(errc_from_errno(err) == Errc::no_such_process ? Errc::io_error : errc_from_errno(err),
              fmt::format("{} {}: {}", what, temp_path_, std::strerror(err)), err);
}

uint64_t FileSink::append(std::span<const uint8_t> bytes) {
  uint64_t at = size_;
  write_at(at, bytes);
  return at;
}

void FileSink::write_at(uint64_t offset, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write", errno);
    }
    done += static_cast<size_t>(n);
  }
  size_ = std::max<uint64_t>(size_, offset + bytes.size());
}

void FileSink::commit() {
  if (fsync(fd_) != 0) fail("cannot sync", errno);
  if (close(fd_) != 0) {
    fd_ = -1;
    fail("cannot close", errno);
  }
  fd_ = -1;
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) fail("cannot rename into place", errno);
  committed_ = true;
}

}  // namespace snapdump::writer
