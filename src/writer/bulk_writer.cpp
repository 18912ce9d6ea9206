#include "writer/bulk_writer.h"

namespace snapdump::writer {
namespace {
constexpr size_t kQueueDepth = 2;
}  // namespace

BulkWriter::BulkWriter(WriteFn write, size_t buffer_size)
    : write_(std::move(write)), buffer_size_(buffer_size), thread_([this] { run(); }) {}

BulkWriter::~BulkWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
    queue_.clear();
  }
  changed_.notify_all();
  thread_.join();
}

std::vector<uint8_t> BulkWriter::buffer() {
  std::lock_guard lock(mutex_);
  if (spare_.empty()) return std::vector<uint8_t>(buffer_size_);
  std::vector<uint8_t> b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

void BulkWriter::rethrow_locked() {
  if (failure_) std::rethrow_exception(failure_);
}

void BulkWriter::submit(uint64_t offset, std::vector<uint8_t> buffer, size_t size) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || queue_.size() < kQueueDepth; });
  rethrow_locked();
  queue_.push_back({offset, std::move(buffer), size});
  changed_.notify_all();
}

void BulkWriter::drain() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return failure_ || (queue_.empty() && !busy_); });
  rethrow_locked();
}

void BulkWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stop_ || (!queue_.empty() && !failure_); });
    if (stop_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    std::exception_ptr failure;
    try {
      write_(job.offset, std::span<const uint8_t>(job.bytes.data(), job.size));
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    busy_ = false;
    if (failure && !failure_) failure_ = failure;
    // After a failure nothing more is written: the dump is lost, the caller learns it next.
    if (failure_) queue_.clear();
    spare_.push_back(std::move(job.bytes));
    changed_.notify_all();
  }
}

}  // namespace snapdump::writer
