// snapdump::Snapshot — a point-in-time capture of a live Linux process, the analog of a Windows
// process snapshot (PssCaptureSnapshot / PssQuerySnapshot / PssWalkSnapshot /
// PssDuplicateSnapshot / PssFreeSnapshot).
//
// How memory is captured decides how long the target is paused:
//   clone            (kVaClone)  the target is stopped only while a copy-on-write clone of it is
//                                made; every later read comes from the clone, point in time.
//   auxiliary_pages  (default)   the target is stopped while the pages a small dump needs
//                                (stacks in use, code around each instruction pointer) are
//                                copied; other reads go to the running target (not point in time).
//   hold             (option)    the target stays stopped until the snapshot is freed.
// The target is never harmed: it always resumes, even if snapdump is killed (see DESIGN.md).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "snapdump/error.h"
#include "snapdump/snapshot_types.h"

namespace snapdump {

namespace detail {
struct SnapshotState;
}

enum class MemoryMode { clone, auxiliary_pages, hold };
const char* to_string(MemoryMode mode) noexcept;

struct CaptureOptions {
  // Without kVaClone: keep the target stopped until the snapshot is freed, for a consistent dump
  // where no clone can be made (seccomp forbids clone, no memory for a copy).
  bool hold = false;
  // Leave threads that are blocked in a call a stop would turn into EINTR (epoll_wait, semop,
  // rt_sigtimedwait, ...) running; their registers come from /proc/PID/task/TID/syscall and
  // they are marked ThreadCapture::left_running.
  bool leave_unrestartable_running = false;
  // Auxiliary pages: at most this many bytes of each thread's stack, from rsp - 128 upward.
  size_t max_stack_bytes = 8u << 20;
  // Auxiliary pages: bytes copied before and after each thread's instruction pointer.
  size_t instruction_window = 256;
  // Auxiliary pages: more [start, end) ranges to copy during the stop.
  std::vector<std::pair<uint64_t, uint64_t>> extra_ranges;
  // Clone: regions the kernel does not clone (MADV_DONTFORK, MADV_WIPEONFORK) are copied during
  // the pause up to this many bytes in all; beyond it they are marked unreadable.
  size_t max_uncloneable_bytes = 64u << 20;
  // How long to wait for one thread to stop before giving up (a thread in D state).
  std::chrono::milliseconds stop_timeout{5000};
};

// Which capture flag set gives the smallest pause for a dump that needs `needed_bytes` of the
// target's memory: kVaClone when copying that much during a stop would pause longer than a
// clone does, else none (auxiliary pages). `process_bytes` is the target's mapped size.
CaptureFlags choose_memory_capture(uint64_t needed_bytes, uint64_t process_bytes);

// A position in one of the walks (threads, regions, handles, auxiliary pages).
class WalkMarker {
 public:
  size_t position() const { return position_; }
  void set_position(size_t position) { position_ = position; }
  void seek_to_beginning() { position_ = 0; }

 private:
  size_t position_ = 0;
};

enum class ReadSource { none, clone, auxiliary_page, live, held };

// The region of an address-sorted region list that holds `address`, or nullptr.
const Region* find_region(std::span<const Region> regions, uint64_t address);

class Snapshot {
 public:
  // Captures process `pid`. `flags` are PSS capture flags (snapdump::capture::k*),
  // `context_flags` the CONTEXT_* parts of each thread's registers to keep. Throws Error with
  // a cause a caller can act on (no_such_process, permission_denied, already_traced,
  // process_exited, not_supported, invalid_argument, resource_exhausted).
  static Snapshot capture(pid_t pid, CaptureFlags flags, ContextFlags context_flags = context::kAll,
                          const CaptureOptions& options = {});

  Snapshot() = default;  // an empty handle
  bool valid() const { return state_ != nullptr; }

  CaptureFlags flags() const;
  ContextFlags context_flags() const;
  MemoryMode memory_mode() const;
  pid_t pid() const;

  // PSS_QUERY_PROCESS_INFORMATION
  const ProcessInfo& process() const;
  // PSS_QUERY_VA_CLONE_INFORMATION: the clone's pid; nullopt without kVaClone.
  std::optional<pid_t> va_clone_pid() const;
  // Each throws Error(not_captured) when its flag was not given.
  std::span<const ThreadEntry> threads() const;        // kThreads
  // kVaSpace; each module's ELF identity (Region::elf) only with kVaSpaceSectionInformation.
  std::span<const Region> regions() const;
  std::span<const HandleEntry> handles() const;        // kHandles
  std::span<const AuxiliaryPage> auxiliary_pages() const;
  PerformanceCounters performance() const;                // kCreateMeasurePerformance
  // How long the target was stopped, always measured: in hold mode from the stop until the
  // target is let go (release_target() or free()), and so far while it is still held.
  std::chrono::nanoseconds pause() const;
  // With a VA clone, always measured: how long one thread of the target was stopped alone just
  // before the pause, while the helper the clone is forked from was made (the other threads ran
  // on); 0 when the pause made the helper, and without a clone.
  std::chrono::nanoseconds helper_thread_stop() const;

  // Throws the Error that makes this snapshot no longer what was captured: the held target
  // exited or was let go (process_exited; the tracer lets a held target go when the process that
  // holds it stays stopped, e.g. by Ctrl-Z, for more than half a second), or the VA clone died
  // (killed from outside, e.g. by the OOM killer). A dump checks it before it declares itself
  // complete, so a dump whose memory reads went astray is never left looking whole.
  void check_intact() const;
  // True while the captured process still exists (it has not exited, or is not yet a zombie).
  bool target_running() const;
  // Tells a VA clone that [start, end) has been read for good (a dump has written it): the clone
  // drops its copy, in batches of 32 MiB, so the target's next write to those pages takes no
  // copy-on-write fault and the clone's memory shrinks while the dump runs. Reads of the range
  // fail from then on (they never return zeros). No effect without a clone. Const: the records
  // do not change, only which bytes the clone still holds. An empty range sends what is still
  // waiting for its batch.
  void release_memory(uint64_t start, uint64_t end) const;
  // True once release_memory() let the clone drop anything.
  bool memory_released() const;
  // Lets the target go now: held threads resume, the clone is killed. The snapshot keeps what
  // it holds itself (records, auxiliary pages); memory reads from then on see the live target,
  // and pause() is final. free() does this too; this is for a caller that wants the final
  // pause before it frees every handle.
  void release_target();

  // Walks: return the entry at the marker and advance it; nullptr at the end.
  const ThreadEntry* walk_threads(WalkMarker& marker) const;
  const Region* walk_regions(WalkMarker& marker) const;
  const HandleEntry* walk_handles(WalkMarker& marker) const;
  const AuxiliaryPage* walk_auxiliary_pages(WalkMarker& marker) const;

  // Reads the target's memory as of the capture: from the clone, the auxiliary pages, or (in
  // auxiliary-pages mode, outside the copied pages) the running target. Returns the bytes read,
  // stopping at the first unreadable byte. `source` tells where the last bytes came from.
  size_t read_memory(uint64_t address, std::span<uint8_t> out, ReadSource* source = nullptr) const;
  // The memory state of all regions and internal maps, even without kVaSpace, with every
  // module's ELF identity whatever the flags (for the writer's module list).
  std::span<const Region> memory_map() const;
  // The runs of [start, end) whose pages exist (present or swapped) in the captured memory: the
  // clone's, or the target's without one. An anonymous page never touched does not exist. nullopt
  // when the kernel cannot tell (no PAGEMAP_SCAN before Linux 6.7): take the whole range then.
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated(uint64_t start, uint64_t end) const;
  // With a VA clone and the target running: where the target is writing its memory now, among
  // `ranges` (disjoint, page-aligned, private anonymous memory the clone shares): the end of the
  // longest run of at least `min_pages` pages the target has written since the clone was made
  // (it no longer shares them). nullopt without a clone, for a target let go, when no run is that
  // long (a random writer), or when the kernel does not say. A full dump that releases what it
  // wrote starts there (docs/capture.md, "The cost of the clone for the target").
  std::optional<uint64_t> write_front(std::span<const std::pair<uint64_t, uint64_t>> ranges, uint64_t min_pages) const;

  // PssDuplicateSnapshot: another handle to the same capture; the clone lives until the last
  // handle is freed.
  Snapshot duplicate() const { return *this; }
  // PssFreeSnapshot: releases this handle (the clone and any held target with the last one).
  void free() { state_.reset(); }

 private:
  explicit Snapshot(std::shared_ptr<detail::SnapshotState> state) : state_(std::move(state)) {}
  const detail::SnapshotState& state() const;
  std::shared_ptr<detail::SnapshotState> state_;
};

}  // namespace snapdump
