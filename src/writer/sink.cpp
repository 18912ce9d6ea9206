#include "writer/sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/dump_callbacks.h"
#include "snapdump/error.h"

namespace snapdump::writer {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
  Errc code = errc_from_errno(err);
  // ESRCH and friends mean nothing for a file: report them as I/O errors.
  if (code == Errc::no_such_process || code == Errc::process_exited) code = Errc::io_error;
  throw Error(code, fmt::format("{}: {}", what, std::strerror(err)), err);
}

void pwrite_all(int fd, uint64_t offset, std::span<const uint8_t> bytes, const std::string& name) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(fmt::format("cannot write {}", name), errno);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void Sink::write_bulk_in_background() {
  bulk_ = std::make_unique<BulkWriter>([this](uint64_t offset, std::span<const uint8_t> bytes) { do_write(offset, bytes); },
                                       kBulkChunk);
}

std::vector<uint8_t> Sink::append_bulk(std::vector<uint8_t> buffer, size_t size) {
  if (!bulk_) {
    append(std::span<const uint8_t>(buffer.data(), size));
    return buffer;
  }
  uint64_t at = size_;
  size_ += size;
  bulk_->submit(at, std::move(buffer), size);
  return bulk_->buffer();
}

FileSink::FileSink(const std::string& path)
    : path_(path), temp_path_(fmt::format("{}.snapdump-partial-{}", path, getpid())) {
  fd_ = open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(fmt::format("cannot create {}", temp_path_), errno);
  write_bulk_in_background();
}

FileSink::~FileSink() {
  stop_background();
  if (fd_ >= 0) close(fd_);
  if (!committed_) unlink(temp_path_.c_str());
}

void FileSink::do_write(uint64_t offset, std::span<const uint8_t> bytes) { pwrite_all(fd_, offset, bytes, temp_path_); }

void FileSink::commit() {
  drain();
  if (fsync(fd_) != 0) fail(fmt::format("cannot sync {}", temp_path_), errno);
  int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) fail(fmt::format("cannot close {}", temp_path_), errno);
  if (rename(temp_path_.c_str(), path_.c_str()) != 0) fail(fmt::format("cannot rename {} into place", path_), errno);
  committed_ = true;
}

FdSink::FdSink(int fd) : fd_(fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) fail(fmt::format("fd {} cannot take a dump", fd), errno);
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (at < 0) {
    throw Error(Errc::invalid_argument,
                fmt::format("fd {} is not seekable (a pipe or socket): a minidump's signature is written last, "
                            "at its start; stream it through the Io callbacks instead",
                            fd));
  }
  base_ = static_cast<uint64_t>(at);
  regular_ = S_ISREG(st.st_mode);
  write_bulk_in_background();
}

FdSink::~FdSink() {
  stop_background();
  // Cut off what a failed dump wrote: the caller's file is as it was before the dump began.
  if (!committed_ && regular_ && ftruncate(fd_, static_cast<off_t>(base_)) != 0) {
    // Nothing more to do: without the signature the bytes do not look like a dump.
  }
}

void FdSink::do_write(uint64_t offset, std::span<const uint8_t> bytes) {
  pwrite_all(fd_, base_ + offset, bytes, fmt::format("fd {}", fd_));
}

void FdSink::commit() {
  drain();
  if (regular_ && fsync(fd_) != 0) fail(fmt::format("cannot sync fd {}", fd_), errno);
  // Leave the offset after the dump, as a write() of it would have.
  lseek(fd_, static_cast<off_t>(base_ + size()), SEEK_SET);
  committed_ = true;
}

void CallbackSink::do_write(uint64_t offset, std::span<const uint8_t> bytes) {
  if (!callbacks_.io_write_all(offset, bytes)) {
    throw Error(Errc::io_error, fmt::format("the IoWriteAll callback failed to write {} bytes at offset {}",
                                            bytes.size(), offset));
  }
}

void CallbackSink::commit() {
  if (!callbacks_.io_finish()) throw Error(Errc::io_error, "the IoFinish callback reported failure");
}

}  // namespace snapdump::writer
