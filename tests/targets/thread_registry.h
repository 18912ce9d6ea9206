// Every thread the target starts has one slot here: its identity for the READY report, the
// resources its blocking call waits on, and the counters the "heartbeat" command reports.
#pragma once

#include <atomic>
#include <cstdint>
#include <latch>
#include <memory>
#include <vector>

#include <sys/types.h>

#include <nlohmann/json.hpp>

namespace sdtarget {

enum class ThreadKind {
  nanosleep,
  pipe_read,
  futex_wait,
  epoll_wait,
  accept,
  spin,
  heartbeat,
  avx,
  load_spin,
  idle,
};

struct ThreadSlot {
  ThreadKind kind{};
  const char* name = "";           // pthread_setname_np name, at most 15 characters
  const char* function = "";       // the extern "C" function the thread parks in
  const char* blocking_call = "";  // what it is blocked in, or "none" for spinners
  bool sleeps = false;             // ends up in state S inside the kernel

  std::atomic<pid_t> tid{0};
  // Set just before the thread enters its endless loop; the avx thread sets it from asm
  // after its registers are loaded, hence a plain 32-bit word.
  std::atomic<std::uint32_t> parked{0};
  std::atomic<std::uint64_t> eintr{0};
  std::atomic<std::uint64_t> unexpected{0};

  // Whatever the blocking call waits on; created before the thread starts so the READY
  // report can list the fds. A futex word needs a stable address, which the slot gives.
  int wait_fd = -1;
  int pipe_read_fd = -1;
  int pipe_write_fd = -1;
  std::uint16_t port = 0;
  alignas(4) std::uint32_t futex_word = 0;

  std::latch* started = nullptr;
};

// Records the calling thread's name and tid, and tells the starter it is running.
void announce_thread(ThreadSlot& slot);

// Counts a failed or surprising return of the blocking call: EINTR separately, since that is
// what a tracer that gets syscall restarting wrong produces.
void count_result(ThreadSlot& slot, int error_number);

struct ThreadPlan {
  std::size_t park_threads = 6;
  std::size_t spin_threads = 0;
  std::size_t idle_threads = 0;
  bool avx = false;
};

// Creates the slots and their resources, starts every thread, waits until each one has
// announced itself and is parked. Call once, after signals are blocked.
void start_threads(const ThreadPlan& plan);

const std::vector<std::unique_ptr<ThreadSlot>>& thread_slots();

nlohmann::json threads_json();      // main thread first, then every slot
nlohmann::json functions_json();    // park function name -> address
nlohmann::json thread_fds_json();   // fds owned by parked threads
nlohmann::json counters_json();     // the "heartbeat" answer
void reset_counters();
void count_main_eintr();  // the main thread's stdin read

}  // namespace sdtarget
