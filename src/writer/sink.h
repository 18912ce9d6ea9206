// Where a dump's bytes go. A seekable sink keeps a dump whole or absent: the writer writes the
// header with its signature zeroed first and the signature last, and a sink destroyed before
// commit() undoes what it can (a path's file never appears, a caller's regular file is truncated
// back to where the dump began). A stream cannot be taken back: the writer plans its layout
// first and writes each byte once, in order (docs/minidump.md says what a cut stream holds).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "writer/bulk_writer.h"

namespace snapdump {
class DumpCallbacks;
}

namespace snapdump::writer {

class PendingFile;

class Sink {
 public:
  virtual ~Sink() = default;
  // Appends at the end; returns the dump offset written at.
  uint64_t append(std::span<const uint8_t> bytes) {
    uint64_t at = size_;
    write_at(at, bytes);
    return at;
  }
  // Writes at a dump offset (patching a directory entry, the signature), after every queued
  // bulk write.
  void write_at(uint64_t offset, std::span<const uint8_t> bytes) {
    drain();
    do_write(offset, bytes);
    if (offset + bytes.size() > size_) size_ = offset + bytes.size();
  }
  uint64_t size() const { return size_; }

  // Bulk bytes (a full dump's memory) in chunks of kBulkChunk: a buffer to fill, and appending
  // the first `size` bytes of it. A file sink writes them on a second thread while the caller
  // reads the next chunk; its failure surfaces at a later call. Returns the next buffer.
  static constexpr size_t kBulkChunk = size_t{4} << 20;
  BulkBuffer bulk_buffer() { return bulk_ ? bulk_->buffer() : BulkBuffer(kBulkChunk); }
  BulkBuffer append_bulk(BulkBuffer buffer, size_t size);
  // The same at a dump offset of the caller's choice, at or after where bulk bytes began (a
  // file's bytes in another order than the file's: an ELF core written from the target's write
  // front). Only for a seekable sink; what is never written is a hole where sparse() holds.
  BulkBuffer write_bulk_at(uint64_t offset, BulkBuffer buffer, size_t size);
  // Call before the first append_bulk: pads the dump with zeros to where the file is aligned for
  // direct I/O, if this sink writes bulk bytes that way (nothing otherwise).
  void align_for_bulk();
  // Bulk bytes that went to the file with direct I/O (O_DIRECT), past the page cache. Exact
  // once commit() or drain() returned.
  uint64_t direct_bytes() const { return direct_bytes_; }

  // Leaves the next `bytes` after the end unwritten: a hole, where sparse() says holes read as
  // zeros (a new file of our own); zeros written, everywhere else (a stream, a caller's file that
  // may hold old bytes there, IoWriteAll). An ELF core's untouched pages go through here.
  void skip(uint64_t bytes);
  virtual bool sparse() const { return false; }

  // Makes the dump durable and visible. Throws on failure; the dump is then not whole.
  virtual void commit() = 0;
  // A stream: write_at only ever continues where the last write ended.
  virtual bool forward_only() const { return false; }

 protected:
  virtual void do_write(uint64_t offset, std::span<const uint8_t> bytes) = 0;
  // For sinks whose do_write may run on another thread: call in the constructor. With
  // `direct_fd` (the same file opened with O_DIRECT; the sink takes it) bulk chunks that are
  // aligned in the file and in length go through it; `name` names the file in errors.
  void write_bulk_in_background(int direct_fd = -1, std::string name = {});
  // Waits for queued bulk writes, rethrowing their failure. Derived destructors call
  // stop_background() before releasing what do_write uses.
  void drain() {
    if (bulk_) bulk_->drain();
  }
  void stop_background();

 private:
  // Runs on the bulk writer's thread.
  void write_bulk(uint64_t offset, std::span<const uint8_t> bytes);
  uint64_t size_ = 0;
  std::unique_ptr<BulkWriter> bulk_;
  int direct_fd_ = -1;
  std::string direct_name_;
  uint64_t direct_bytes_ = 0;
};

// A path's dump: written to its PendingFile (src/writer/output.h), put in place by commit(). A
// full dump's memory goes to it with direct I/O where the file system allows: gigabytes of dump
// then neither evict the page cache of the machine being debugged (the target's files included)
// nor pile up as dirty pages that throttle every writer on it, and their speed is the device's,
// not that of allocating fresh page cache (bench/dump_bench measures both).
class FileSink final : public Sink {
 public:
  explicit FileSink(PendingFile& file);
  ~FileSink() override;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  // A file snapdump created itself (or one it replaces whole): nothing old under a hole.
  bool sparse() const override { return true; }
  void commit() override;

 private:
  void do_write(uint64_t offset, std::span<const uint8_t> bytes) override;
  PendingFile& file_;
};

// A stream (pipe, FIFO, socket, character device): each byte written once, in order, on the
// bulk writer's thread while the next chunk is read. A reader that went away is an error naming
// the stream (EPIPE). A socket never raises SIGPIPE (MSG_NOSIGNAL); a pipe's write raises it as
// any write(2) does, and Linux sends it to the whole process: a program that wants the error
// instead of dying ignores SIGPIPE, as the snapdump command does.
class StreamSink final : public Sink {
 public:
  StreamSink(int fd, std::string name);
  ~StreamSink() override;
  StreamSink(const StreamSink&) = delete;
  StreamSink& operator=(const StreamSink&) = delete;
  bool forward_only() const override { return true; }
  void commit() override;

 private:
  void do_write(uint64_t offset, std::span<const uint8_t> bytes) override;
  int fd_;
  std::string name_;
  bool socket_ = false;
  uint64_t position_ = 0;  // moved only by do_write, which runs one call at a time
};

// A caller's seekable file, from its current offset: the signature is written last, at the
// start, and a regular file is truncated back to the starting offset if the dump fails. (A pipe,
// socket or character device gets a StreamSink instead; DumpOutput::to_fd decides.) Written through the page cache only: direct I/O would need a second descriptor of the
// caller's file, and closing it would drop the caller's POSIX record locks on the file. A
// descriptor open with O_APPEND is refused: Linux appends what pwrite writes, wherever it is
// told to write.
class FdSink final : public Sink {
 public:
  // `name` names the file in errors ("standard output", "fd 5").
  FdSink(int fd, std::string name);
  ~FdSink() override;
  FdSink(const FdSink&) = delete;
  FdSink& operator=(const FdSink&) = delete;
  void commit() override;

 private:
  void do_write(uint64_t offset, std::span<const uint8_t> bytes) override;
  int fd_;
  std::string name_;
  uint64_t base_ = 0;
  bool regular_ = false, committed_ = false;
};

// IoStartCallback accepted: every write is an io_write_all; commit() is io_finish.
class CallbackSink final : public Sink {
 public:
  explicit CallbackSink(DumpCallbacks& callbacks) : callbacks_(callbacks) {}
  void commit() override;

 private:
  void do_write(uint64_t offset, std::span<const uint8_t> bytes) override;
  DumpCallbacks& callbacks_;
};

}  // namespace snapdump::writer
