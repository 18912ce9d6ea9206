// The live capture as a ProcessView: what the Snapshot holds (its copies, its VA clone or the held
// target), nothing read from /proc or ptrace afresh. The view borrows the snapshot, which must
// outlive it.
#pragma once

#include <optional>
#include <vector>

#include "snapdump/snapshot.h"
#include "view/process_view.h"

namespace snapdump::view {

class SnapshotView final : public ProcessView {
 public:
  // `signal`: why the process is being dumped (--signal, --exception-thread), if anyone said.
  explicit SnapshotView(const Snapshot& snapshot, std::optional<Signal> signal = std::nullopt);

  const ProcessSummary& process() const override { return process_; }
  std::span<const ThreadState> threads() const override { return threads_; }
  std::span<const Mapping> mappings() const override { return mappings_; }
  std::span<const Module> modules() const override { return modules_; }
  std::optional<Signal> signal() const override { return signal_; }
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override;
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated(uint64_t start, uint64_t end) const override;
  // Forwards to Snapshot::release_memory (a VA clone drops the pages).
  void release_memory(uint64_t start, uint64_t end) const override;
  std::optional<uint64_t> write_front(std::span<const std::pair<uint64_t, uint64_t>> ranges,
                                      uint64_t min_pages) const override {
    return snapshot_.write_front(ranges, min_pages);
  }
  std::vector<std::string> gaps() const override;

  const Snapshot& snapshot() const { return snapshot_; }

 private:
  const Snapshot& snapshot_;
  std::optional<Signal> signal_;
  ProcessSummary process_;
  std::vector<ThreadState> threads_;
  std::vector<Mapping> mappings_;
  std::vector<Module> modules_;
};

}  // namespace snapdump::view
