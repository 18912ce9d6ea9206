#include "writer/bulk_writer.h"

#include <new>

namespace snapdump::writer {
namespace {
constexpr size_t kQueueDepth = 2;
}  // namespace

BulkBuffer::BulkBuffer(size_t size) : size_(size) {
  size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  bytes_.reset(static_cast<uint8_t*>(std::aligned_alloc(kAlignment, rounded == 0 ? kAlignment : rounded)));
  if (!bytes_) throw std::bad_alloc();
}

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

BulkBuffer BulkWriter::buffer() {
  std::lock_guard lock(mutex_);
  if (spare_.empty()) return BulkBuffer(buffer_size_);
  BulkBuffer b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

void BulkWriter::rethrow_locked() {
  if (failure_) std::rethrow_exception(failure_);
}

void BulkWriter::submit(uint64_t offset, BulkBuffer buffer, size_t size) {
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
