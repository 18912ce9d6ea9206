// The library's side of the tracer (tracer_server.h): starts it for a capture, hands it the
// pause and later the release of what it holds, and reads back what the pause saw.
//
// The tracer is the process snapdump-tracer (libexec/snapdump/), started with exit signal 0 so
// that the host program never sees a SIGCHLD or a child it did not make (waitpid(-1) without
// __WALL does not see it either). Found, in order, at $SNAPDUMP_TRACER_PATH, next to the
// program or library that holds this code (../libexec/snapdump/), where it was installed, and
// where this build made it.
//
// Only where such a process could not trace the target does the tracer run as a thread of the
// calling process instead: Yama's ptrace_scope 1 lets only a target's ancestors trace it (or a
// tracer it named), and the tracer process is the caller's child, not the target's ancestor.
// There snapdump's own death or stop reaches the target as it would any debugger's:
// docs/capture.md says what that costs. SNAPDUMP_TRACER=in-process forces this mode (tests).
#pragma once

#include <pthread.h>
#include <sys/types.h>

#include <cstdint>
#include <memory_resource>
#include <mutex>
#include <span>
#include <utility>

#include "linux/tracer_protocol.h"
#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// What the pause answered, in the memory the caller gives.
struct PauseReply {
  tracer::PauseSummary summary{};
  // Every thread: tid, capture, context_flags, fpregs, xsave, debug registers, capture time.
  // `regs` is set when context was asked for; stop_regs always (parallel to threads).
  std::pmr::vector<ThreadEntry> threads;
  std::pmr::vector<user_regs_struct> stop_regs;
  std::pmr::vector<AuxiliaryPage> pages;  // sorted by address
  std::pmr::vector<tracer::RegionState> region_states;  // parallel to the request's regions

  explicit PauseReply(std::pmr::memory_resource* memory)
      : threads(memory), stop_regs(memory), pages(memory), region_states(memory) {}
};

struct TracerStatus {
  bool held = false, hold_broken = false, clone_alive = false;
  uint64_t pause_end_ns = 0;
  char reason[512] = {};
};

// One request at a time: the methods may be called from any thread (duplicated snapshot handles
// live on different threads), and a mutex keeps their messages apart.
class Tracer {
 public:
  // Starts a tracer able to trace `target`. Throws Error: the tracer executable missing or from
  // another build, or no process could be started (resource_exhausted).
  explicit Tracer(pid_t target);
  // Closes the connection: the tracer releases what it still holds and ends.
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // The process whose thread traces (the tracer process, or this one in in-process mode).
  pid_t pid() const { return tracer_pid_; }
  bool in_process() const { return in_process_; }

  // Runs the pause. Throws the Error the tracer met (everything undone), or Error(internal)
  // naming the tracer when it died.
  void pause(const tracer::PauseRequest& request, PauseReply& reply);
  void close_clone_files();
  // Asks the clone to drop its copy of the ranges; does not wait (the tracer answers nothing).
  void drop_clone_memory(std::span<const std::pair<uint64_t, uint64_t>> ranges);
  TracerStatus status();
  // Kills the clone, lets held threads go; returns when the pause ended (hold mode).
  tracer::ReleaseSummary release();

 private:
  // Sends a request with an empty payload (or `request`'s), reads the header of the answer and
  // throws what an error answer carries. After it returns, in_ is positioned at the payload.
  void exchange(tracer::Op op, const tracer::PauseRequest* request = nullptr);
  [[noreturn]] void tracer_lost(int err);
  void shut_down() noexcept;
  void start_process(pid_t target);
  void start_thread();
  void read_hello();

  int fd_ = -1;
  pid_t tracer_pid_ = 0;
  pid_t child_ = 0;        // the tracer process, to be reaped
  bool in_process_ = false;
  pthread_t thread_{};     // the in-process tracer
  bool thread_started_ = false;
  bool hello_read_ = false;
  std::mutex mutex_;
  uint8_t buffer_[64 << 10];
  wire::MessageIn in_{-1, {}};
};

}  // namespace snapdump::os
