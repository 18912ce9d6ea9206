// One thread of snapdump that does all ptrace work for a snapshot. The kernel ties a tracee to
// the thread that attached, and kills a PTRACE_O_EXITKILL tracee (the VA clone) when that thread
// exits; so a snapshot that keeps a clone or a held target keeps its own tracer thread, and
// callers may use and free the snapshot from any thread.
//
// A raw pthread rather than std::thread, and jobs passed by reference rather than as
// std::function: starting it and handing it work take nothing from snapdump's side of the heap
// (kCreateUseVmAllocations). glibc itself allocates the new thread's TLS vector in
// pthread_create; tests/integration/vm_allocations_test.cpp measures that against a bare
// pthread_create.
#pragma once

#include <pthread.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <type_traits>

namespace snapdump::os {

class TracerThread {
 public:
  TracerThread();
  ~TracerThread();
  TracerThread(const TracerThread&) = delete;
  TracerThread& operator=(const TracerThread&) = delete;

  // Runs `work()` on the tracer thread and waits for it; rethrows what it throws.
  template <class F>
  void run(F&& work) {
    using Fn = std::remove_reference_t<F>;
    run_job(Job{[](void* f) { (*static_cast<Fn*>(f))(); }, const_cast<void*>(static_cast<const void*>(&work))});
  }

 private:
  struct Job {
    void (*call)(void*);
    void* arg;
  };
  void run_job(Job job);
  static void* start(void* self);
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  const Job* job_ = nullptr;
  std::exception_ptr error_;
  bool done_ = false;
  bool stop_ = false;
  pthread_t thread_{};
};

}  // namespace snapdump::os
