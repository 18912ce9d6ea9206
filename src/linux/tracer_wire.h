// Framed messages between the library and its tracer (src/linux/tracer_server.h) over a unix
// stream socket. A message is a header (magic, operation, payload length) and a payload of plain
// little-endian values and byte runs, written and read in the same order by both sides (they are
// one build, and the hello message checks it).
//
// Neither side takes anything from the heap: an outgoing message is a list of pieces, small values
// copied into a compose buffer and large byte runs (auxiliary pages, XSAVE areas) referenced where
// they lie; an incoming one is read through a fixed buffer, and large runs go straight into the
// caller's memory. Both come from a memory resource the caller gives (a VmArena in a
// kCreateUseVmAllocations capture).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <cstring>
#include <memory_resource>
#include <span>
#include <string_view>
#include <type_traits>
#include <vector>

namespace snapdump::os::wire {

inline constexpr uint32_t kMagic = 0x52544453;  // "SDTR"

struct Header {
  uint32_t magic = kMagic;
  uint32_t op = 0;
  uint64_t length = 0;
};

// Called while a send or receive waits on the socket, every `tick` of waiting; returning false
// gives up (the wait then fails with ECANCELED). The server watches its owner this way.
using WaitTick = bool (*)(void* context);
struct Waiting {
  WaitTick tick = nullptr;
  void* context = nullptr;
  int tick_ms = 100;
};

class MessageOut {
 public:
  MessageOut(uint32_t op, std::pmr::memory_resource* memory);

  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    put_bytes_copied({reinterpret_cast<const uint8_t*>(&value), sizeof value});
  }
  void put_string(std::string_view s);
  // A length and the bytes; the bytes are referenced, not copied: they must live until send().
  void put_run(std::span<const uint8_t> bytes);
  void put_bytes_copied(std::span<const uint8_t> bytes);

  uint64_t payload_size() const { return size_; }
  // Sends the whole message. Returns 0 or an errno (EPIPE when the peer is gone, ECANCELED when
  // `waiting.tick` gave up).
  int send(int fd, const Waiting& waiting = {}) const;

 private:
  struct Piece {
    bool copied;     // in compose_ at `offset`, else `data`
    size_t offset;
    const uint8_t* data;
    size_t size;
  };
  uint32_t op_;
  uint64_t size_ = 0;
  std::pmr::vector<uint8_t> compose_;
  std::pmr::vector<Piece> pieces_;
};

// Reads messages from a socket through a fixed buffer.
class MessageIn {
 public:
  MessageIn(int fd, std::span<uint8_t> buffer) : fd_(fd), buffer_(buffer) {}

  // Reads the next header; returns 0, or an errno (0 bytes at the very start, the peer closed:
  // ECONNRESET; a bad magic: EPROTO).
  int next(Header& header, const Waiting& waiting = {});

  // The payload of the current message, in order. Each returns false once the payload is
  // exhausted or the socket fails (then error() says why); values read after a failure are 0.
  template <class T>
  bool get(T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return get_bytes({reinterpret_cast<uint8_t*>(&value), sizeof value});
  }
  bool get_bytes(std::span<uint8_t> out);
  // A run written by put_run or put_string: its length first, which must not exceed `max`.
  bool get_run_size(uint64_t& size, uint64_t max);
  bool get_string(std::pmr::string& out, uint64_t max = 1 << 20);
  // Skips what the current payload still holds (a message whose end the caller does not need).
  bool skip_rest();
  uint64_t remaining() const { return remaining_; }
  int error() const { return error_; }

 private:
  bool fill(const Waiting& waiting);
  int fd_;
  std::span<uint8_t> buffer_;
  size_t begin_ = 0, end_ = 0;  // unread bytes of buffer_
  uint64_t remaining_ = 0;      // of the current payload
  int error_ = 0;
  Waiting waiting_{};
};

// Waits until `fd` is readable or `waiting` gives up. Returns 0, or ECANCELED.
int wait_readable(int fd, const Waiting& waiting);
// True if the peer of a connected unix stream socket has closed or shut down its end.
bool peer_closed(int fd);

}  // namespace snapdump::os::wire
