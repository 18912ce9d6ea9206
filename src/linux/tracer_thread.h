// One thread of snapdump that does all ptrace work for a snapshot. The kernel ties a tracee to
// the thread that attached, and kills a PTRACE_O_EXITKILL tracee (the VA clone) when that thread
// exits; so a snapshot that keeps a clone or a held target keeps its own tracer thread, and
// callers may use and free the snapshot from any thread.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace snapdump::os {

class TracerThread {
 public:
  TracerThread();
  ~TracerThread();
  TracerThread(const TracerThread&) = delete;
  TracerThread& operator=(const TracerThread&) = delete;

  // Runs `work` on the tracer thread and waits for it; rethrows what it throws.
  void run(const std::function<void()>& work);

 private:
  void loop();
  std::mutex mutex_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::exception_ptr error_;
  bool done_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace snapdump::os
