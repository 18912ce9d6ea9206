#include "writer/sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
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
    // A file that takes no byte and reports no error would loop here forever.
    if (n == 0) fail(fmt::format("cannot write {}: it took none of {} bytes", name, bytes.size() - done), EIO);
    done += static_cast<size_t>(n);
  }
}

// The file at `path` (open as `fd`) opened again for direct I/O, or -1 where its file system
// takes no direct writes aligned to a page (some FUSE and network file systems, tmpfs on older
// kernels, a device with larger blocks). Where statx cannot say, a direct write that fails with
// EINVAL makes the sink go on through the page cache.
int open_direct(const std::string& path, int fd) {
#ifdef STATX_DIOALIGN
  struct statx sx {};
  if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &sx) == 0 && (sx.stx_mask & STATX_DIOALIGN)) {
    if (sx.stx_dio_offset_align == 0 || sx.stx_dio_offset_align > BulkBuffer::kAlignment ||
        sx.stx_dio_mem_align > BulkBuffer::kAlignment) {
      return -1;
    }
  }
#else
  (void)fd;
#endif
  return open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
}

}  // namespace

void Sink::write_bulk_in_background(int direct_fd, std::string name) {
  direct_fd_ = direct_fd;
  direct_name_ = std::move(name);
  bulk_ = std::make_unique<BulkWriter>(
      [this](uint64_t offset, std::span<const uint8_t> bytes) { write_bulk(offset, bytes); }, kBulkChunk);
}

void Sink::stop_background() {
  bulk_.reset();
  if (direct_fd_ >= 0) close(direct_fd_);
  direct_fd_ = -1;
}

void Sink::align_for_bulk() {
  // Decided on the caller's thread before any bulk job exists, so direct_fd_ is not in use.
  if (direct_fd_ < 0 || !bulk_) return;
  static constexpr uint8_t kZeros[BulkBuffer::kAlignment] = {};
  size_t pad = static_cast<size_t>((BulkBuffer::kAlignment - size_ % BulkBuffer::kAlignment) % BulkBuffer::kAlignment);
  if (pad > 0) append(std::span<const uint8_t>(kZeros, pad));
}

void Sink::write_bulk(uint64_t offset, std::span<const uint8_t> bytes) {
  constexpr uint64_t kAlign = BulkBuffer::kAlignment;
  if (direct_fd_ >= 0 && offset % kAlign == 0 && bytes.size() % kAlign == 0 &&
      reinterpret_cast<uintptr_t>(bytes.data()) % kAlign == 0) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = pwrite(direct_fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
      if (n > 0) {
        done += static_cast<size_t>(n);
        direct_bytes_ += static_cast<uint64_t>(n);
        if (done % kAlign != 0) break;  // the rest is no longer aligned: through the page cache
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EINVAL) {
        // The file system refuses this direct write after all: the page cache from here on.
        close(direct_fd_);
        direct_fd_ = -1;
        break;
      }
      if (n < 0) fail(fmt::format("cannot write {}", direct_name_), errno);
      break;  // wrote nothing and said nothing: the page cache path reports what is wrong
    }
    if (done == bytes.size()) return;
    offset += done;
    bytes = bytes.subspan(done);
  }
  do_write(offset, bytes);
}

BulkBuffer Sink::append_bulk(BulkBuffer buffer, size_t size) {
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
  // Dump offset 0 is file offset 0, so aligned dump offsets are aligned file offsets.
  write_bulk_in_background(open_direct(temp_path_, fd_), temp_path_);
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
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0 && (flags & O_APPEND)) {
    throw Error(Errc::invalid_argument,
                fmt::format("fd {} is open with O_APPEND: Linux would append every write, and a minidump's "
                            "header and directory are written in place; open it without O_APPEND",
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
