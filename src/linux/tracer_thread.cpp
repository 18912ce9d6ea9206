#include "linux/tracer_thread.h"

#include <cstring>
#include <system_error>

namespace snapdump::os {

TracerThread::TracerThread() {
  if (int err = pthread_create(&thread_, nullptr, &TracerThread::start, this); err != 0) {
    throw std::system_error(err, std::generic_category(), "cannot start snapdump's tracer thread");
  }
  pthread_setname_np(thread_, "snapdump-trace");
}

TracerThread::~TracerThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  pthread_join(thread_, nullptr);
}

void* TracerThread::start(void* self) {
  static_cast<TracerThread*>(self)->loop();
  return nullptr;
}

void TracerThread::run_job(Job job) {
  if (pthread_equal(pthread_self(), thread_)) {
    job.call(job.arg);  // already on the tracer thread (a nested call)
    return;
  }
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return job_ == nullptr; });
  job_ = &job;
  done_ = false;
  error_ = nullptr;
  cv_.notify_all();
  cv_.wait(lock, [&] { return done_; });
  job_ = nullptr;
  auto error = error_;
  error_ = nullptr;
  cv_.notify_all();
  lock.unlock();
  if (error) std::rethrow_exception(error);
}

void TracerThread::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || (job_ != nullptr && !done_); });
    if (stop_) return;
    const Job* job = job_;
    lock.unlock();
    std::exception_ptr error;
    try {
      job->call(job->arg);
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
