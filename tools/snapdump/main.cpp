// snapdump: capture live Linux processes without hurting them.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "capture_flags.h"
#include "demo.h"
#include "convert_command.h"
#include "core_report.h"
#include "dump_command.h"
#include "dump_report.h"
#include "name_escape.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "snapshot_report.h"
#include "view/core_view.h"
#include "view/minidump_view.h"
#include "file_kind.h"
#include "stacks_command.h"
#include "stacks_report.h"
#include "unwind/unwinder.h"

namespace {

constexpr snapdump::CaptureFlags kAllInformation =
    snapdump::capture::kHandles | snapdump::capture::kHandleNameInformation |
    snapdump::capture::kHandleBasicInformation | snapdump::capture::kHandleTypeSpecificInformation |
    snapdump::capture::kThreads | snapdump::capture::kThreadContext |
    snapdump::capture::kThreadContextExtended | snapdump::capture::kVaSpace |
    snapdump::capture::kVaSpaceSectionInformation | snapdump::capture::kCreateMeasurePerformance;

int run_snapshot(pid_t pid, const std::string& flags_text, bool clone, bool no_clone, bool hold,
                 bool leave_running, bool json) {
  snapdump::CaptureFlags flags = flags_text.empty() ? kAllInformation : snapdump::cli::parse_capture_flags(flags_text);
  if (clone) flags |= snapdump::capture::kVaClone;
  if (no_clone) flags &= ~snapdump::capture::kVaClone;
  if (!clone && !no_clone && !hold && flags_text.empty()) {
    // Let snapdump choose: this command reads little memory, so copying beats cloning.
    flags |= snapdump::choose_memory_capture(0, 0);
  }
  snapdump::CaptureOptions options;
  options.hold = hold;
  options.leave_unrestartable_running = leave_running;
  snapdump::Snapshot snapshot = snapdump::Snapshot::capture(pid, flags, snapdump::context::kAll, options);
  // A held target is let go before the report is printed: the pause it shows is then the whole
  // time the target was stopped, not the time so far.
  if (hold) snapshot.release_target();
  if (json) {
    fmt::print("{}\n", snapdump::cli::json_text(snapdump::cli::snapshot_to_json(snapshot)));
  } else {
    snapdump::cli::print_snapshot(stdout, snapshot);
  }
  return 0;
}

// `inspect` of an ELF core: its summary, or its threads' stacks, from view::CoreView.
int inspect_core(const std::string& path, bool stacks, bool json, const std::string& stream) {
  if (!stream.empty()) throw std::invalid_argument("--stream names a minidump's stream: " + snapdump::cli::escape_text(path) + " is an ELF core");
  snapdump::view::CoreView core = snapdump::view::CoreView::open(path);
  if (stacks) {
    auto unwound = snapdump::unwind::unwind_stacks(core);
    if (json) {
      fmt::print("{}\n", snapdump::cli::json_text(snapdump::cli::stacks_to_json(unwound, std::nullopt)));
    } else {
      snapdump::cli::print_stacks(stdout, unwound, "core " + snapdump::cli::escape_text(path), std::nullopt);
    }
  } else if (json) {
    fmt::print("{}\n", snapdump::cli::json_text(snapdump::cli::core_to_json(core)));
  } else {
    snapdump::cli::print_core(stdout, core);
  }
  if (core.problems().empty()) return 0;
  std::fflush(stdout);
  bool truncated = core.problems().front().starts_with("truncated:");
  fmt::print(stderr, "snapdump: {}: {} problem{}{}: the core is {}\n", snapdump::cli::escape_text(path), core.problems().size(),
             core.problems().size() == 1 ? "" : "s", stacks ? "" : " (listed with the output)",
             truncated ? "truncated (its end is missing)" : "truncated or corrupt");
  if (stacks) {
    for (const std::string& p : core.problems()) fmt::print(stderr, "  {}\n", snapdump::cli::escape_text(p));
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "snapdump - capture a live Linux process (threads, registers, memory map, file "
      "descriptors, memory) without hurting it.\n\n"
      "The target is paused only for as long as the capture needs: with a VA clone, only while a "
      "copy-on-write clone of it is made; without, only while its stacks are copied. It always "
      "resumes, even if snapdump is killed.",
      "snapdump"};
  app.require_subcommand(1);
  app.footer(snapdump::cli::kNamesHelp);
  app.set_version_flag("--version", "snapdump 0.1.0");

  auto* snap = app.add_subcommand(
      "snapshot",
      "Capture a snapshot of process PID and print what it holds: process information, threads "
      "with registers, modules with build-ids, memory regions, file descriptors, and the pause.");
  pid_t pid = 0;
  std::string flags_text;
  bool clone = false, no_clone = false, hold = false, leave_running = false, json = false;
  snap->add_option("PID", pid, "process to capture")->required();
  snap->add_option("--capture", flags_text,
                   "PSS capture flags to use instead of 'everything', comma-separated, with or "
                   "without the PSS_CAPTURE_ prefix; known: " + snapdump::cli::capture_flag_names());
  snap->add_flag("--clone", clone, "capture memory through a copy-on-write VA clone (PSS_CAPTURE_VA_CLONE)");
  snap->add_flag("--no-clone", no_clone, "never clone: copy the pages needed during a short stop");
  snap->add_flag("--hold", hold, "keep the target stopped until the snapshot is freed (no clone)");
  snap->add_flag("--leave-unrestartable-running", leave_running,
                 "do not stop threads blocked in epoll_wait, semop or sigtimedwait (a stop makes "
                 "them return EINTR); their registers are partial");
  snap->add_flag("--json", json, snapdump::cli::kJsonFlagHelp);

  snapdump::cli::DumpArgs dump_args;
  snapdump::cli::add_dump_command(app, dump_args);
  snapdump::cli::ConvertArgs convert_args;
  snapdump::cli::add_convert_command(app, convert_args);
  snapdump::cli::StacksArgs stacks_args;
  snapdump::cli::add_stacks_command(app, stacks_args);

  auto* inspect = app.add_subcommand(
      "inspect",
      "Show what minidump FILE holds: its streams, system, process, threads with names and "
      "registers, modules with build-ids, memory, the memory map and handles. Any dump, from any "
      "writer: what cannot be parsed is listed under Problems, never a crash. FILE may also be an "
      "x86-64 ELF core (the kernel's, gdb's gcore's or snapdump's): then its process, signal, threads "
      "with their rip and rsp, mappings, modules with the build-ids read from the core's memory, and "
      "what a core does not carry; a truncated or damaged core shows what it still holds and its "
      "problems, and exits with status 1.");
  std::string inspect_file;
  inspect->add_option("FILE", inspect_file, "minidump or ELF core to read")->required();
  bool inspect_json = false;
  std::string inspect_stream;
  inspect->add_flag("--json", inspect_json, snapdump::cli::kJsonFlagHelp);
  bool inspect_stacks = false, inspect_no_debuginfod = false;
  inspect->add_flag("--stacks", inspect_stacks,
                    std::string("print every thread's backtrace instead, as `snapdump stacks` does for a live "
                                "process (and as JSON with --json): unwound with libdwfl from the registers and "
                                "the stack memory the dump holds, with the modules' files of this machine. ") +
                        snapdump::cli::kDebugInfoHelp);
  inspect->add_flag("--no-debuginfod", inspect_no_debuginfod,
                    "with --stacks: never ask a debuginfod server, even with DEBUGINFOD_URLS set");
  inspect->add_option("--stream", inspect_stream,
                      "print only the stream NAME (ThreadList, ModuleList, LinuxMaps, ...): text streams "
                      "as text, line by line and escaped (LinuxCmdLine and LinuxEnviron one entry per "
                      "line), others as JSON or a hex dump");

  auto* demo = app.add_subcommand(
      "demo",
      "Start the bundled demo process, capture it with a VA clone, show what the snapshot holds, "
      "prove it is a point in time (the demo overwrites its heap, the snapshot still reads the "
      "old bytes), then stop the demo process.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    if (*snap) return run_snapshot(pid, flags_text, clone, no_clone, hold, leave_running, json);
    if (*demo) return snapdump::cli::run_demo();
    if (*inspect) {
      if (inspect_stacks && !inspect_stream.empty()) throw std::invalid_argument("--stacks and --stream contradict each other");
      if (inspect_no_debuginfod) unsetenv("DEBUGINFOD_URLS");
      if (snapdump::cli::is_elf_core(inspect_file)) return inspect_core(inspect_file, inspect_stacks, inspect_json, inspect_stream);
      auto dump = snapdump::reader::Minidump::open(inspect_file);
      if (inspect_stacks) {
        snapdump::view::MinidumpView view(dump);
        auto stacks = snapdump::unwind::unwind_stacks(view);
        if (inspect_json) {
          fmt::print("{}\n", snapdump::cli::json_text(snapdump::cli::stacks_to_json(stacks, std::nullopt)));
        } else {
          snapdump::cli::print_stacks(stdout, stacks, "dump " + snapdump::cli::escape_text(inspect_file), std::nullopt);
        }
      } else if (!inspect_stream.empty()) {
        snapdump::cli::print_stream(stdout, dump, inspect_stream, inspect_json);
      } else if (inspect_json) {
        fmt::print("{}\n", snapdump::cli::json_text(snapdump::cli::dump_to_json(dump)));
      } else {
        snapdump::cli::print_dump(stdout, dump);
      }
      // What could be read is shown; a dump with problems is still a failed read for scripts.
      if (!dump.problems().empty()) {
        std::fflush(stdout);
        // A dump cut short (a stream whose writer stopped) says so first: the other problems follow from it.
        bool truncated = dump.problems().front().rfind("truncated:", 0) == 0;
        fmt::print(stderr, "snapdump: {}: {} problem{} (listed with the output): the dump is {}\n",
                   snapdump::cli::escape_text(inspect_file), dump.problems().size(),
                   dump.problems().size() == 1 ? "" : "s",
                   truncated ? "truncated (its end is missing)" : "truncated or corrupt");
        return 1;
      }
      return 0;
    }
    if (*app.get_subcommand("dump")) return snapdump::cli::run_dump(dump_args);
    if (*app.get_subcommand("convert")) return snapdump::cli::run_convert(convert_args);
    if (*app.get_subcommand("stacks")) return snapdump::cli::run_stacks(stacks_args);
  } catch (const snapdump::Error& e) {
    fmt::print(stderr, "snapdump: {}: {}\n", snapdump::to_string(e.code()), snapdump::cli::escape_lines(e.what()));
    return 1;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "snapdump: {}\n", snapdump::cli::escape_lines(e.what()));
    return 2;
  } catch (const std::exception& e) {
    fmt::print(stderr, "snapdump: {}\n", snapdump::cli::escape_lines(e.what()));
    return 1;
  }
  return 0;
}
