// A minidump read back (reader::Minidump) as a ProcessView: what `snapdump convert` writes as an
// ELF core. Registers come from each thread's CONTEXT (general registers, the FXSAVE image;
// fs_base from the thread's TEB field, where snapdump's writer puts it), mappings from the
// LinuxMaps stream when the dump has one (Breakpad's and snapdump's do), else from the
// MemoryInfoList, else from the memory ranges and modules; the signal from the Exception stream.
// When the dump does not hold the dynamic linker's list of objects, it is rebuilt from the
// LinuxDsoDebug stream (minidump_link_map.h) so that gdb finds the shared libraries. gaps() says
// what the dump did not carry. The view borrows the Minidump, which must outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "snapdump/reader.h"
#include "view/minidump_link_map.h"
#include "view/process_view.h"

namespace snapdump::view {

class MinidumpView final : public ProcessView {
 public:
  explicit MinidumpView(const reader::Minidump& dump);

  const ProcessSummary& process() const override { return process_; }
  std::span<const ThreadState> threads() const override { return threads_; }
  std::span<const Mapping> mappings() const override { return mappings_; }
  std::span<const Module> modules() const override { return modules_; }
  std::optional<Signal> signal() const override { return signal_; }
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override;
  // The runs of [start, end) the dump holds bytes for: a core gets those and nothing else.
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> held(uint64_t start, uint64_t end) const override;
  std::vector<std::string> gaps() const override { return gaps_; }

 private:
  const reader::Minidump& dump_;
  ProcessSummary process_;
  std::vector<ThreadState> threads_;
  std::vector<Mapping> mappings_;
  std::vector<Module> modules_;
  std::optional<Signal> signal_;
  void rebuild_link_map_if_missing();
  std::vector<std::pair<uint64_t, uint64_t>> held_;  // the dump's memory ranges (and link_map's), merged
  std::optional<RebuiltLinkMap> link_map_;
  std::vector<std::string> gaps_;
};

}  // namespace snapdump::view
