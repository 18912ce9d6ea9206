#include "linux/tracer_thread.h"

#include <pthread.h>

namespace snapdump::os {

TracerThread::TracerThread() : thread_([this] { loop(); }) {
  pthread_setname_np(thread_.native_handle(), "snapdump-trace");
}

TracerThread::~TracerThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void TracerThread::run(const std::function<void()>& work) {
  if (std::this_thread::get_id() == thread_.get_id()) {
    work();  // already on the tracer thread (a nested call)
    return;
  }
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return job_ == nullptr; });
  job_ = &work;
  done_ = false;
  error_ = nullptr;
  cv_.notify_all();
  cv_.wait(lock, [&] { return done_; });
  job_ = nullptr;
  auto error = error_;
  cv_.notify_all();
  lock.unlock();
  if (error) std::rethrow_exception(error);
}

void TracerThread::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (job_ != nullptr && !done_); });
    if (stop_) return;
    const auto* job = job_;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*job)();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace snapdump::os
