// An x86-64 Linux ELF core read back as a ProcessView: the kernel's cores, gdb's `gcore` cores
// and snapdump's own (`dump --format core`, `convert`). Threads come from NT_PRSTATUS (tid,
// registers, signal masks, times) with the NT_PRFPREG and NT_X86_XSTATE notes that follow each;
// the process from NT_PRPSINFO and NT_AUXV; the signal from NT_SIGINFO; mappings from the
// PT_LOADs, named from NT_FILE; modules from the NT_FILE mappings that start with an ELF header
// in memory, their build-ids read from that header's notes.
//
// The file is trusted in nothing: every offset and size is checked, counts are capped, and a
// core cut short or damaged gives what can still be read, with problems() saying what was not
// (open throws only when the file is not an ELF core at all). gaps() says what a core does not
// carry even when whole. The memory is the PT_LOADs' bytes in the file: a mapping's bytes past
// its p_filesz, or past the end of a truncated file, are not held (read_memory stops there).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "view/core_file.h"
#include "view/process_view.h"

namespace snapdump::view {

class CoreView final : public ProcessView {
 public:
  // Maps and parses the core at `path`. Throws snapdump::Error: corrupt_input ("PATH is not an
  // ELF core: ...", "PATH is empty: not an ELF core", "PATH is an ELF core of machine N, not
  // x86-64 ...", or "PATH: ..." when its program headers are unusable), io_error or
  // permission_denied when it cannot be opened, stat'ed or mapped. Damage past the headers is
  // never thrown: it is in problems().
  static CoreView open(const std::string& path);
  // The same from bytes in memory; `what` names them in messages.
  static CoreView from_bytes(std::vector<uint8_t> bytes, const std::string& what = "the input");

  const ProcessSummary& process() const override { return process_; }
  std::span<const ThreadState> threads() const override { return threads_; }
  std::span<const Mapping> mappings() const override { return mappings_; }
  std::span<const Module> modules() const override { return modules_; }
  std::optional<Signal> signal() const override { return signal_; }
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override;
  // The runs of [start, end) the file holds bytes for (a sparse file's holes inside p_filesz are
  // held: they are pages of zeros).
  std::optional<std::vector<std::pair<uint64_t, uint64_t>>> held(uint64_t start, uint64_t end) const override;
  std::vector<std::string> gaps() const override { return gaps_; }

  // What was skipped or cut short because the file is damaged or truncated; empty for a whole
  // core. The first one starts with "truncated:" when the file's end is missing.
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  CoreView(std::shared_ptr<const void> storage, std::span<const uint8_t> file, const std::string& what);
  void read_notes(const CoreFile& core);
  void read_file_note(const CoreNote& note);
  void read_mappings(const CoreFile& core);
  void find_modules();

  std::shared_ptr<const void> storage_;  // keeps the mapped file (or the bytes) alive
  std::span<const uint8_t> file_;
  std::vector<CoreLoad> loads_;
  ProcessSummary process_;
  std::vector<ThreadState> threads_;
  std::vector<Mapping> mappings_;
  std::vector<Module> modules_;
  std::optional<Signal> signal_;
  struct FileEntry {
    uint64_t start, end, offset;
    std::string path;
  };
  std::vector<FileEntry> files_;  // NT_FILE, in address order
  std::vector<std::string> gaps_, problems_;
};

}  // namespace snapdump::view
