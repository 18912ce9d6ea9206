// Writing a full dump's memory on a second thread: while one 4 MiB chunk goes to the file, the
// next is read from the process. Reading (/proc/CLONE/mem) is a copy the kernel makes on the
// calling CPU, and writing is another (into the page cache) or a device transfer (direct I/O,
// see sink.h), so on two cores the pipeline takes about as long as the slower of the two
// instead of their sum.
//
// Only file sinks use it. Callbacks (IoWriteAll, the Vm* hooks) are always called on the
// caller's thread, as MiniDumpWriteDump's callers expect.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace snapdump::writer {

// A buffer for bulk bytes, aligned to a page so that a direct (O_DIRECT) write can take it where
// it lies: the device reads it by DMA, which wants the memory aligned as the file offset is.
class BulkBuffer {
 public:
  static constexpr size_t kAlignment = 4096;
  BulkBuffer() = default;
  explicit BulkBuffer(size_t size);
  uint8_t* data() { return bytes_.get(); }
  const uint8_t* data() const { return bytes_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::unique_ptr<uint8_t, Free> bytes_;
  size_t size_ = 0;
};

class BulkWriter {
 public:
  using WriteFn = std::function<void(uint64_t offset, std::span<const uint8_t> bytes)>;
  // `write` runs on the writer thread, one job at a time, in submission order.
  BulkWriter(WriteFn write, size_t buffer_size);
  ~BulkWriter();  // discards what is queued and joins
  BulkWriter(const BulkWriter&) = delete;
  BulkWriter& operator=(const BulkWriter&) = delete;

  // A buffer of buffer_size bytes to fill: one the writer is done with, or a new one.
  BulkBuffer buffer();
  // Queues the first `size` bytes of `buffer` for offset `offset`. Waits while two jobs are
  // already queued, so memory stays bounded. Rethrows a failure of an earlier job.
  void submit(uint64_t offset, BulkBuffer buffer, size_t size);
  // Waits until every queued job is written; rethrows the first failure.
  void drain();

 private:
  struct Job {
    uint64_t offset;
    BulkBuffer bytes;
    size_t size;
  };
  void run();
  void rethrow_locked();

  WriteFn write_;
  size_t buffer_size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> queue_;
  std::vector<BulkBuffer> spare_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr failure_;
  std::thread thread_;
};

}  // namespace snapdump::writer
