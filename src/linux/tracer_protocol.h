// What the library asks of its tracer and what the tracer answers (src/linux/tracer_server.h).
// Every operation is one request message and one answer: `ok` with the operation's payload, or
// `error` with the cause, errno and message of the Error the tracer caught.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <cstdint>
#include <memory_resource>
#include <utility>

#include "linux/tracer_wire.h"
#include "snapdump/error.h"
#include "snapdump/snapshot_types.h"

namespace snapdump::os::tracer {

// Bumped whenever a message changes: a tracer binary from another build refuses to talk.
inline constexpr uint32_t kProtocolVersion = 2;

enum class Op : uint32_t {
  hello = 1,              // tracer -> library, once: Hello
  pause = 2,              // PauseRequest -> PauseSummary, threads, pages, region states
  close_clone_files = 3,  // -> (nothing)
  release = 4,            // -> ReleaseSummary: the clone killed and reaped, held threads let go
  status = 5,             // -> StatusSummary
  drop_clone_memory = 6,  // count, then [start, end) pairs; no answer (see Tracer::drop_clone_memory)
  ok = 100,
  error = 101,
};

struct Hello {
  uint32_t version = kProtocolVersion;
  int32_t tracer_pid = 0;  // the process whose threads trace: the tracer process, or this one
  uint8_t in_process = 0;  // 1: a thread of the library's own process (see tracer_client.h)
};

// The memory mode of the capture (snapdump::MemoryMode's values).
enum class PauseMode : uint8_t { clone = 0, auxiliary_pages = 1, hold = 2 };

// What the pause needs to know of one region, from the maps read before the stop.
struct RegionBrief {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0;
  uint8_t dont_fork = 0, wipe_on_fork = 0, io = 0;
  uint8_t populated = 0;  // it has pages (resident or swapped) to copy
};

struct PauseRequest {
  int32_t pid = 0;
  PauseMode mode = PauseMode::auxiliary_pages;
  uint8_t leave_unrestartable_running = 0;
  uint8_t want_context = 0;  // kThreadContext
  uint8_t want_xstate = 0;   // kThreadContextExtended
  uint32_t context_flags = 0;
  uint32_t stop_timeout_ms = 5000;
  uint64_t gadget = 0;       // clone mode: the syscall instruction to inject through
  uint8_t orphan = 0;        // clone mode: clone_can_be_orphaned(pid)
  uint8_t vm_allocations = 0;  // kCreateUseVmAllocations: the pause keeps what it reads off the heap
  uint64_t max_stack_bytes = 0, instruction_window = 0, max_uncloneable_bytes = 0;
  std::pmr::vector<std::pair<uint64_t, uint64_t>> extra_ranges;
  std::pmr::vector<RegionBrief> regions;  // sorted by start

  explicit PauseRequest(std::pmr::memory_resource* memory) : extra_ranges(memory), regions(memory) {}
};

// What became of a region the kernel does not clone, per PauseRequest::regions entry.
enum class RegionState : uint8_t {
  untouched = 0,
  copied_in_pause = 1,
  unreadable = 2,        // left out of the clone and not copied (over the copy cap)
  kept_in_clone = 3,     // MADV_DONTFORK cleared for the fork and set again: the clone has it
  changed_in_pause = 4,  // not as the maps read before the stop said: left out
};

struct PauseSummary {
  uint64_t pause_start_ns = 0;  // CLOCK_MONOTONIC of the first interrupt
  uint64_t pause_end_ns = 0;    // of the last detach; 0 while the threads are held
  PhaseCounter pause{}, threads{}, va_clone{}, aux_pages{};
  uint64_t fork_ns = 0;  // the clone's fork() alone, inside va_clone
  uint64_t helper_stop_ns = 0;  // one thread stopped alone before the pause to make the fork helper
  int32_t clone_pid = 0;        // 0 without a clone
  uint8_t clone_orphaned = 0;
  uint32_t thread_count = 0, page_count = 0, region_count = 0;
};

// One thread as the pause saw it; followed on the wire by its XSAVE run.
struct ThreadWire {
  int32_t tid = 0;
  uint8_t capture = 0;  // ThreadCapture
  uint32_t context_flags = 0;
  user_regs_struct regs{};  // always read for a stopped thread, whatever context_flags say
  user_fpregs_struct fpregs{};
  std::array<uint64_t, 8> debug_registers{};
  uint64_t capture_time_unix_ns = 0;
};

struct PageWire {
  uint64_t address = 0;
  uint32_t prot = 0;
  uint8_t why = 0;  // AuxiliaryPage::Why
  uint64_t capture_time_unix_ns = 0;
};

struct ReleaseSummary {
  uint64_t pause_end_ns = 0;  // hold mode: when the held threads were let go
};

struct StatusSummary {
  uint8_t held = 0;           // threads are still held
  uint8_t hold_broken = 0;    // a held thread exited, or the hold was given up (see reason)
  uint8_t clone_alive = 0;
  uint64_t pause_end_ns = 0;  // set once a hold ended
  // Followed by the reason as a string ("" when nothing went wrong).
};

void encode(wire::MessageOut& out, const PauseRequest& request);
bool decode(wire::MessageIn& in, PauseRequest& request);

// An `error` answer, and reading one back into the Error it carried.
void encode_error(wire::MessageOut& out, const Error& error);
Error decode_error(wire::MessageIn& in);

}  // namespace snapdump::os::tracer
