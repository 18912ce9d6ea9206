#include "stacks_command.h"

#include <cstdlib>

#include <fmt/format.h>

#include "name_escape.h"
#include "snapdump/snapshot.h"
#include "stacks_report.h"
#include "unwind/unwinder.h"
#include "view/snapshot_view.h"

namespace snapdump::cli {
namespace {

// The live view with its memory cut down to what the capture copied while the target was
// stopped (each thread's stack in use and the code around its pc) and the [vdso], which is the
// kernel's and never changes. The target runs again when the unwinder reads: any other byte
// read from it would be of another moment, and a walk through it could invent frames.
class CapturedStacksView final : public view::ProcessView {
 public:
  explicit CapturedStacksView(const Snapshot& snapshot) : snapshot_(snapshot), live_(snapshot) {
    for (const AuxiliaryPage& page : snapshot.auxiliary_pages()) pages_.push_back(&page);
    std::sort(pages_.begin(), pages_.end(), [](auto* a, auto* b) { return a->address < b->address; });
  }

  const view::ProcessSummary& process() const override { return live_.process(); }
  std::span<const view::ThreadState> threads() const override { return live_.threads(); }
  std::span<const view::Mapping> mappings() const override { return live_.mappings(); }
  std::span<const view::Module> modules() const override { return live_.modules(); }
  std::optional<view::Signal> signal() const override { return std::nullopt; }
  std::vector<std::string> gaps() const override { return {}; }

  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override {
    for (const view::Module& m : live_.modules()) {
      if (m.path == "[vdso]" && address >= m.base && address + out.size() <= m.base + m.size)
        return snapshot_.read_memory(address, out);
    }
    size_t done = 0;
    while (done < out.size()) {
      uint64_t at = address + done;
      auto next = std::upper_bound(pages_.begin(), pages_.end(), at, [](uint64_t a, auto* p) { return a < p->address; });
      if (next == pages_.begin()) break;
      const AuxiliaryPage& page = **(next - 1);
      if (at >= page.address + page.bytes.size()) break;
      size_t n = std::min<size_t>(out.size() - done, page.address + page.bytes.size() - at);
      std::copy_n(page.bytes.begin() + (at - page.address), n, out.begin() + done);
      done += n;
    }
    return done;
  }

 private:
  const Snapshot& snapshot_;
  view::SnapshotView live_;
  std::vector<const AuxiliaryPage*> pages_;
};

}  // namespace

const char* const kDebugInfoHelp =
    "Frames are named from the ELF files of the modules: the file at the module's path when its "
    "build-id is the one the process mapped (else /usr/lib/debug/.build-id/), with the debug "
    "information found next to it (.gnu_debuglink), in /usr/lib/debug by build-id, and through "
    "debuginfod when DEBUGINFOD_URLS is set (DEBUGINFOD_CACHE_PATH, DEBUGINFOD_TIMEOUT and the "
    "other variables of debuginfod-find(1) apply). A frame without a symbol is shown as its "
    "module and offset.";

void add_stacks_command(CLI::App& app, StacksArgs& a) {
  auto* cmd = app.add_subcommand(
      "stacks",
      std::string("Print every thread's backtrace in process PID: for each frame its address, function+offset, "
                  "source file:line where debug information exists, and module; then each module's path "
                  "and build-id.\n\n"
                  "The target is stopped only while its threads' registers and the stack pages in use are "
                  "copied (well under a millisecond for a few dozen threads; the pause is printed), then "
                  "runs on while snapdump unwinds the copies with elfutils' libdwfl. Frames are found with "
                  "the CFI of the modules (.eh_frame, .debug_frame) and, where a frame has none, with the "
                  "frame pointer chain: such frames are marked [via frame pointer]. The stack is never "
                  "scanned for return addresses: where neither works the walk stops and says why.\n\n") +
          kDebugInfoHelp +
          "\n\nExit status: 0 when every thread was printed, 1 when the process could not be captured "
          "(it does not exist, exited, is traced by another tracer, or permission is denied), 2 for "
          "bad arguments.");
  cmd->add_option("PID", a.pid, "process whose threads to show")->required();
  cmd->add_flag("--json", a.json, std::string(kJsonFlagHelp) +
                                      " Each frame has pc, method (initial, cfi or frame pointer), and when known "
                                      "function, symbol (as the ELF file spells it), function_offset, source_file, "
                                      "line, column, module, module_offset and build_id; pause_ns is the pause.");
  cmd->add_flag("--leave-unrestartable-running", a.leave_running,
                "do not stop threads blocked in epoll_wait, semop or sigtimedwait (a stop makes them return "
                "EINTR); they are unwound from their pc and stack pointer alone, which CFI needs and the "
                "frame pointer fallback does not have");
  cmd->add_flag("--no-debuginfod", a.no_debuginfod, "never ask a debuginfod server, even with DEBUGINFOD_URLS set");
  cmd->add_option("--max-frames", a.max_frames, "stop a thread's walk after N frames (default 256)")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
}

int run_stacks(const StacksArgs& a) {
  // Only what the walk needs: registers, and (auxiliary pages, the default without kVaClone)
  // each thread's stack in use, copied in the stop. No memory map walk with smaps in the pause,
  // no fds, no clone.
  CaptureFlags flags = capture::kThreads | capture::kThreadContext;
  CaptureOptions options;
  options.leave_unrestartable_running = a.leave_running;
  Snapshot snapshot = Snapshot::capture(a.pid, flags, context::kControl | context::kInteger | context::kSegments, options);
  snapshot.release_target();
  if (a.no_debuginfod) unsetenv("DEBUGINFOD_URLS");
  CapturedStacksView view(snapshot);
  unwind::UnwindOptions unwind_options;
  unwind_options.max_frames = a.max_frames;
  unwind::Stacks stacks = unwind::unwind_stacks(view, unwind_options);
  uint64_t pause_ns = static_cast<uint64_t>(snapshot.pause().count());
  if (a.json) {
    fmt::print("{}\n", json_text(stacks_to_json(stacks, pause_ns)));
  } else {
    print_stacks(stdout, stacks, fmt::format("process {} ({})", a.pid, escape_text(snapshot.process().name)), pause_ns);
  }
  return 0;
}

}  // namespace snapdump::cli
