#include "writer/sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/dump_callbacks.h"
#include "snapdump/error.h"
#include "writer/file_error.h"
#include "writer/output.h"

namespace snapdump::writer {
namespace {

void pwrite_all(int fd, uint64_t offset, std::span<const uint8_t> bytes, const std::string& name) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_file_error(fmt::format("cannot write {}", name), errno);
    }
    // A file that takes no byte and reports no error would loop here forever.
    if (n == 0) throw_file_error(fmt::format("cannot write {}: it took none of {} bytes", name, bytes.size() - done), EIO);
    done += static_cast<size_t>(n);
  }
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
      if (n < 0) throw_file_error(fmt::format("cannot write {}", direct_name_), errno);
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

BulkBuffer Sink::write_bulk_at(uint64_t offset, BulkBuffer buffer, size_t size) {
  if (forward_only()) throw Error(Errc::internal, "a stream takes its bytes in order");
  size_ = std::max(size_, offset + size);
  if (!bulk_) {
    do_write(offset, std::span<const uint8_t>(buffer.data(), size));
    return buffer;
  }
  bulk_->submit(offset, std::move(buffer), size);
  return bulk_->buffer();
}

void Sink::skip(uint64_t bytes) {
  if (sparse()) {
    size_ += bytes;  // queued bulk writes carry their own offsets
    return;
  }
  while (bytes > 0) {
    BulkBuffer zeros = bulk_buffer();
    size_t n = static_cast<size_t>(std::min<uint64_t>(bytes, zeros.size()));
    std::memset(zeros.data(), 0, n);
    append_bulk(std::move(zeros), n);
    bytes -= n;
  }
}

FileSink::FileSink(PendingFile& file) : file_(file) {
  // Dump offset 0 is file offset 0, so aligned dump offsets are aligned file offsets.
  write_bulk_in_background(file_.open_direct(), file_.subject());
}

FileSink::~FileSink() { stop_background(); }

void FileSink::do_write(uint64_t offset, std::span<const uint8_t> bytes) {
  pwrite_all(file_.fd(), offset, bytes, file_.subject());
}

void FileSink::commit() {
  drain();
  stop_background();  // the O_DIRECT descriptor is closed before the file gets its name
  file_.commit();
}

FdSink::FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  // DumpOutput::to_fd has refused what cannot take a dump in place; these are its facts again.
  struct stat st {};
  if (fstat(fd, &st) != 0) throw_file_error(fmt::format("{} cannot take a dump", name_), errno);
  off_t at = lseek(fd, 0, SEEK_CUR);
  if (at < 0) throw_file_error(fmt::format("{} cannot take a dump in place", name_), errno);
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
  pwrite_all(fd_, base_ + offset, bytes, name_);
}

void FdSink::commit() {
  drain();
  if (regular_ && fsync(fd_) != 0) throw_file_error(fmt::format("cannot write {} to stable storage", name_), errno);
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
