// StreamSink: a dump written front to back, once (pipe, FIFO, socket, character device).
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "writer/file_error.h"
#include "writer/sink.h"

namespace snapdump::writer {

StreamSink::StreamSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
  struct stat st {};
  socket_ = fstat(fd_, &st) == 0 && S_ISSOCK(st.st_mode);
  write_bulk_in_background();
}

StreamSink::~StreamSink() { stop_background(); }

void StreamSink::do_write(uint64_t offset, std::span<const uint8_t> bytes) {
  if (offset != position_) {
    throw Error(Errc::internal, fmt::format("a stream cannot go back: asked to write {} at offset {} after {} bytes",
                                            name_, offset, position_));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    // A socket is told not to raise SIGPIPE; a pipe has no such flag (see sink.h).
    ssize_t n = socket_ ? send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL)
                        : write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      if (err == EPIPE || err == ECONNRESET) {
        throw Error(Errc::io_error,
                    fmt::format("the reader of {} went away ({} bytes written so far): the dump it got is incomplete",
                                name_, position_ + done),
                    err);
      }
      throw_file_error(fmt::format("cannot write {} (after {} bytes)", name_, position_ + done), err);
    }
    if (n == 0) throw_file_error(fmt::format("cannot write {}: it took none of {} bytes", name_, bytes.size() - done), EIO);
    done += static_cast<size_t>(n);
  }
  position_ += bytes.size();
}

void StreamSink::commit() {
  // Nothing to sync or rename: every byte was handed over as it was written.
  drain();
}

}  // namespace snapdump::writer
