// A minidump read back, as much of a ProcessView as the unwinder needs (threads and registers,
// modules with build-ids, the memory the dump holds), for `snapdump inspect --stacks FILE`.
// Temporary and private to the CLI: view::MinidumpView (src/view/, issue 14 item 4) replaces it
// once it is on main.
#pragma once

#include <string>
#include <vector>

#include "snapdump/reader.h"
#include "view/process_view.h"

namespace snapdump::cli {

// True when `path` starts with an ELF header of type ET_CORE.
bool is_elf_core(const std::string& path);

class MinidumpStacksView final : public view::ProcessView {
 public:
  explicit MinidumpStacksView(const reader::Minidump& dump);

  const view::ProcessSummary& process() const override { return process_; }
  std::span<const view::ThreadState> threads() const override { return threads_; }
  std::span<const view::Mapping> mappings() const override { return {}; }
  std::span<const view::Module> modules() const override { return modules_; }
  std::optional<view::Signal> signal() const override { return std::nullopt; }
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override { return dump_.read_memory(address, out); }
  std::vector<std::string> gaps() const override { return gaps_; }

 private:
  const reader::Minidump& dump_;
  view::ProcessSummary process_;
  std::vector<view::ThreadState> threads_;
  std::vector<view::Module> modules_;
  std::vector<std::string> gaps_;
};

}  // namespace snapdump::cli
