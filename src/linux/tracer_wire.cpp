#include "linux/tracer_wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace snapdump::os::wire {
namespace {

// One poll of `fd` for `events`, at most `ms` long. Returns the revents, 0 on timeout.
short poll_once(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  for (;;) {
    int r = ::poll(&p, 1, ms);
    if (r > 0) return p.revents;
    if (r == 0) return 0;
    if (errno != EINTR) return POLLERR;
  }
}

// Waits for `events` on `fd`, ticking. Returns 0 when ready, ECANCELED when the tick gave up.
int wait_for_events(int fd, short events, const Waiting& waiting) {
  for (;;) {
    if (poll_once(fd, events, waiting.tick ? waiting.tick_ms : -1) != 0) return 0;
    if (waiting.tick && !waiting.tick(waiting.context)) return ECANCELED;
  }
}

}  // namespace

int wait_readable(int fd, const Waiting& waiting) { return wait_for_events(fd, POLLIN, waiting); }

bool peer_closed(int fd) {
  short r = poll_once(fd, POLLRDHUP, 0);
  return (r & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

MessageOut::MessageOut(uint32_t op, std::pmr::memory_resource* memory)
    : op_(op), compose_(memory), pieces_(memory) {
  compose_.reserve(4096);
  pieces_.reserve(64);
}

void MessageOut::put_bytes_copied(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  size_t at = compose_.size();
  compose_.insert(compose_.end(), bytes.begin(), bytes.end());
  // Consecutive copies join one piece.
  if (!pieces_.empty() && pieces_.back().copied && pieces_.back().offset + pieces_.back().size == at) {
    pieces_.back().size += bytes.size();
  } else {
    pieces_.push_back({true, at, nullptr, bytes.size()});
  }
  size_ += bytes.size();
}

void MessageOut::put_run(std::span<const uint8_t> bytes) {
  put<uint64_t>(bytes.size());
  if (bytes.empty()) return;
  // Small runs are copied: a piece per XSAVE area would make long iovec lists.
  if (bytes.size() <= 256) {
    put_bytes_copied(bytes);
    return;
  }
  pieces_.push_back({false, 0, bytes.data(), bytes.size()});
  size_ += bytes.size();
}

void MessageOut::put_string(std::string_view s) {
  put_run({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

int MessageOut::send(int fd, const Waiting& waiting) const {
  Header header{kMagic, op_, size_};
  // The pieces become iovecs in batches; a partial write resumes inside a piece.
  constexpr size_t kBatch = 64;
  iovec iov[kBatch + 1];
  size_t piece = 0, within = 0;
  size_t header_done = 0;
  for (;;) {
    size_t n = 0;
    if (header_done < sizeof header) {
      iov[n++] = {reinterpret_cast<char*>(&header) + header_done, sizeof header - header_done};
    }
    for (size_t i = piece; i < pieces_.size() && n < kBatch + 1; ++i) {
      const Piece& p = pieces_[i];
      const uint8_t* base = p.copied ? compose_.data() + p.offset : p.data;
      size_t skip = i == piece ? within : 0;
      iov[n++] = {const_cast<uint8_t*>(base + skip), p.size - skip};
    }
    if (n == 0) return 0;
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = n;
    // MSG_NOSIGNAL: a peer that died gives EPIPE, not a SIGPIPE in the library's host.
    ssize_t w = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (int err = wait_for_events(fd, POLLOUT, waiting); err != 0) return err;
        continue;
      }
      return errno;
    }
    size_t left = static_cast<size_t>(w);
    if (header_done < sizeof header) {
      size_t h = std::min(left, sizeof header - header_done);
      header_done += h;
      left -= h;
    }
    while (left > 0 && piece < pieces_.size()) {
      size_t rest = pieces_[piece].size - within;
      if (left >= rest) {
        left -= rest;
        ++piece;
        within = 0;
      } else {
        within += left;
        left = 0;
      }
    }
    if (header_done == sizeof header && piece == pieces_.size()) return 0;
  }
}

bool MessageIn::fill(const Waiting& waiting) {
  if (begin_ == end_) begin_ = end_ = 0;
  for (;;) {
    ssize_t r = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, MSG_DONTWAIT);
    if (r > 0) {
      end_ += static_cast<size_t>(r);
      return true;
    }
    if (r == 0) {
      error_ = ECONNRESET;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (int err = wait_readable(fd_, waiting); err != 0) {
        error_ = err;
        return false;
      }
      continue;
    }
    error_ = errno;
    return false;
  }
}

int MessageIn::next(Header& header, const Waiting& waiting) {
  if (remaining_ > 0 && !skip_rest()) return error_;
  waiting_ = waiting;
  error_ = 0;
  remaining_ = sizeof header;
  bool ok = get(header);
  if (!ok) return error_ != 0 ? error_ : EPROTO;
  if (header.magic != kMagic) {
    error_ = EPROTO;
    return error_;
  }
  remaining_ = header.length;
  return 0;
}

bool MessageIn::get_bytes(std::span<uint8_t> out) {
  if (error_ != 0 || out.size() > remaining_) {
    if (error_ == 0) error_ = EPROTO;
    std::fill(out.begin(), out.end(), 0);
    return false;
  }
  size_t done = 0;
  while (done < out.size()) {
    if (begin_ == end_) {
      // A large run goes straight to its place, past the buffer.
      size_t want = out.size() - done;
      if (want >= buffer_.size()) {
        ssize_t r = ::recv(fd_, out.data() + done, want, MSG_DONTWAIT);
        if (r > 0) {
          done += static_cast<size_t>(r);
          continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          if (int err = wait_readable(fd_, waiting_); err != 0) {
            error_ = err;
            break;
          }
          continue;
        }
        error_ = r == 0 ? ECONNRESET : errno;
        break;
      }
      if (!fill(waiting_)) break;
    }
    size_t n = std::min(end_ - begin_, out.size() - done);
    std::memcpy(out.data() + done, buffer_.data() + begin_, n);
    begin_ += n;
    done += n;
  }
  remaining_ -= done;
  if (done < out.size()) {
    std::fill(out.begin() + static_cast<std::ptrdiff_t>(done), out.end(), 0);
    return false;
  }
  return true;
}

bool MessageIn::get_run_size(uint64_t& size, uint64_t max) {
  if (!get(size)) return false;
  if (size > max || size > remaining_) {
    error_ = EPROTO;
    size = 0;
    return false;
  }
  return true;
}

bool MessageIn::get_string(std::pmr::string& out, uint64_t max) {
  uint64_t size = 0;
  if (!get_run_size(size, max)) return false;
  out.resize(size);
  return get_bytes({reinterpret_cast<uint8_t*>(out.data()), out.size()});
}

bool MessageIn::skip_rest() {
  uint8_t scratch[512];
  while (remaining_ > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, sizeof scratch));
    if (!get_bytes({scratch, n})) return false;
  }
  return true;
}

}  // namespace snapdump::os::wire
