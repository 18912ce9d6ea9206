// The target's pause, as the tracer runs it: every thread seized and interrupted, registers read,
// then by memory mode a VA clone made or the pages a small dump needs copied, and every thread
// let go again (or kept, in hold mode). Nothing here waits for the library: the whole pause runs
// inside the tracer, so a library that is killed, stopped (Ctrl-Z) or slow cannot lengthen it.
//
// Between its steps the pause asks `owner_gone`; once the library is gone it stops at the next
// step, undoes what was done (the clone killed, every thread released with its own registers)
// and throws OwnerGone.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <deque>
#include <memory_resource>
#include <optional>

#include "linux/pause_memory.h"
#include "linux/ptrace_thread.h"
#include "linux/tracer_protocol.h"
#include "linux/va_clone.h"
#include "snapdump/snapshot_types.h"

namespace snapdump::os {

struct OwnerGone {};

class TargetPause {
 public:
  struct StoppedThread {
    TracedThread traced;
    ThreadEntry entry;
    user_regs_struct regs{};  // always read while stopped: stacks and windows need rsp and rip
  };

  // `memory` holds everything the pause keeps (XSAVE areas, copied pages) until the answer is
  // sent; `owner_gone(context)` is asked between steps.
  TargetPause(const tracer::PauseRequest& request, std::pmr::memory_resource* memory,
              bool (*owner_gone)(void*), void* context);
  TargetPause(const TargetPause&) = delete;
  TargetPause& operator=(const TargetPause&) = delete;

  // Runs the pause. On any failure everything is undone before the Error (or OwnerGone) leaves.
  void run();

  // Results, valid after run().
  const tracer::PauseSummary& summary() const { return summary_; }
  const std::pmr::deque<StoppedThread>& stopped() const { return threads_; }
  std::span<const pid_t> left_running() const { return left_running_; }
  std::span<const pid_t> exited() const { return exited_; }
  std::span<const AuxiliaryPage> pages() const { return pages_; }
  std::span<const tracer::RegionState> region_states() const { return region_states_; }

  // What the session keeps after the answer: the clone, and in hold mode the stopped threads.
  std::optional<VaClone>& clone() { return clone_; }
  std::pmr::deque<StoppedThread>& held() { return threads_; }

  // Lets every stopped thread go; in hold mode ends the pause. Idempotent.
  void release_threads() noexcept;

 private:
  void prepare_memory();
  void stop_all();
  void read_registers();
  void make_clone();
  void plan_dontfork_runs(std::pmr::vector<std::pair<uint64_t, uint64_t>>& runs, std::pmr::vector<uint8_t>& gapped,
                          std::pmr::vector<size_t>& first_region);
  bool madvise_allowed(pid_t carrier, const std::pmr::vector<std::pair<uint64_t, uint64_t>>& runs) const;
  void copy_ranges(std::pmr::vector<std::pair<uint64_t, uint64_t>> ranges, AuxiliaryPage::Why why);
  std::pmr::vector<std::pair<uint64_t, uint64_t>> plan_auxiliary_ranges() const;
  const tracer::RegionBrief* region_of(uint64_t address) const;
  void check_owner();
  void stall(const char* phase, pid_t clone = 0);

  const tracer::PauseRequest& request_;
  PauseMemory pause_memory_;            // declared first: everything below allocates from it
  std::pmr::memory_resource* memory_;  // &pause_memory_
  bool (*owner_gone_)(void*);
  void* context_;
  tracer::PauseSummary summary_{};
  std::pmr::vector<pid_t> tids_, known_;
  std::pmr::vector<StoppedThread*> fresh_;
  std::pmr::deque<StoppedThread> threads_;  // a deque: fresh_ points into it while it grows
  std::pmr::vector<pid_t> left_running_, exited_;
  std::pmr::vector<AuxiliaryPage> pages_;
  std::pmr::vector<tracer::RegionState> region_states_;
  ForkHelper fork_helper_;  // declared before clone_: a failed clone is destroyed first
  std::optional<VaClone> clone_;
  bool released_ = false;
};

}  // namespace snapdump::os
