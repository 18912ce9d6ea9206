#include "real_programs/program_run.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <thread>

#include "support/proc_state.h"
#include "support/read_dump.h"
#include "view/core_view.h"

#ifndef SNAPDUMP_REAL_PROGRAM_ROUNDS
#error "SNAPDUMP_REAL_PROGRAM_ROUNDS must say how often each mode is dumped"
#endif

namespace snapdump::testing {
namespace {

std::map<std::string, std::unique_ptr<ProgramRun>>& runs() {
  static std::map<std::string, std::unique_ptr<ProgramRun>> all;
  return all;
}

// "...; the target was paused 12.345 ms" -> 12.345, or -1.
double printed_pause_ms(const std::string& out) {
  auto at = out.find("the target was paused ");
  if (at == std::string::npos) return -1;
  return std::strtod(out.c_str() + at + 22, nullptr);
}

// A marker nobody else's memory holds: this test process's pid and a random number.
std::string make_marker() {
  std::random_device random;
  return "rp" + std::to_string(getpid()) + "x" + std::to_string(random());
}

}  // namespace

bool pause_agrees(const DumpRecord& r) {
  const double tolerance = std::max(15.0, r.printed_pause_ms * 0.15);
  return r.printed_pause_ms > 0 && r.felt_ms >= 0 && std::abs(r.printed_pause_ms - r.felt_ms) < tolerance;
}

int dump_rounds() { return SNAPDUMP_REAL_PROGRAM_ROUNDS; }

const std::vector<DumpMode>& dump_modes() {
  static const std::vector<DumpMode> modes = {
      {"small", {"dump", "{PID}", "--no-progress"}, false},
      {"full", {"dump", "{PID}", "--full", "--no-progress"}, true},
      {"full-no-clone", {"dump", "{PID}", "--full", "--no-clone", "--no-progress"}, true},
      // The core the kernel would write (coredump_filter's default), for gdb and elfutils.
      {"core", {"dump", "{PID}", "--format", "core", "--no-progress"}, false, true},
      {"snapshot-json", {"snapshot", "{PID}", "--json"}, false},
  };
  return modes;
}

bool has_dontfork(const std::string& flags) { return (flags + " ").find(" dc ") != std::string::npos; }

std::vector<std::size_t> find_all(std::span<const std::uint8_t> haystack, const std::string& needle) {
  std::vector<std::size_t> out;
  if (needle.empty()) return out;
  const auto* begin = haystack.data();
  const auto* at = begin;
  const auto* end = begin + haystack.size();
  while (at + needle.size() <= end) {
    const void* hit = memmem(at, static_cast<std::size_t>(end - at), needle.data(), needle.size());
    if (!hit) break;
    out.push_back(static_cast<std::size_t>(static_cast<const std::uint8_t*>(hit) - begin));
    at = static_cast<const std::uint8_t*>(hit) + 1;
  }
  return out;
}

ProgramRun& ProgramRun::get(const ProgramSpec& spec) {
  auto& slot = runs()[spec.name];
  if (!slot) {
    slot.reset(new ProgramRun(spec));
    slot->run();
  }
  return *slot;
}

void ProgramRun::end_all() { runs().clear(); }

ProgramRun::ProgramRun(const ProgramSpec& spec) : spec_(spec), marker_(make_marker()) {}

const DumpRecord* ProgramRun::kept(const std::string& mode) const {
  for (const DumpRecord& r : records_)
    if (r.mode == mode && !r.path.empty()) return &r;
  return nullptr;
}

void ProgramRun::run() {
  try {
    dir_ = std::make_unique<TempDir>("real-" + spec_.name);
    std::vector<std::string> argv = spec_.argv;
    argv.push_back(marker_);
    target_ = TargetProcess::spawn_program(argv, spec_.ready_timeout_ms);
    for (const DumpMode& mode : dump_modes()) {
      bool agreed = false;  // a round whose printed pause is what the heartbeat felt
      for (int round = 0; round < dump_rounds() || (!agreed && round < 3); ++round) {
        records_.push_back(dump_once(mode, round));
        const DumpRecord& r = records_.back();
        if (r.cli.exit_code != 0) break;  // the tests report it; more rounds would say the same
        agreed = agreed || pause_agrees(r);
      }
    }
  } catch (const std::exception& e) {
    error_ = spec_.name + ": " + e.what();
    if (target_) error_ += "\nits stderr:\n" + target_->stderr_text();
  }
}

DumpRecord ProgramRun::dump_once(const DumpMode& mode, int round) {
  const pid_t pid = target_->pid();
  DumpRecord r;
  r.mode = mode.name;
  r.round = round;
  r.children_before = children(pid);
  r.tasks_before = thread_ids(pid);
  r.flags_before = vm_flags(pid);

  std::vector<std::string> argv = {SNAPDUMP_CLI_PATH};
  for (const std::string& arg : mode.args) argv.push_back(arg == "{PID}" ? std::to_string(pid) : arg);
  const bool writes_dump = mode.args.front() == "dump";
  std::string path;
  if (writes_dump) {
    path = *dir_ / (mode.name + "-" + (round < 0 ? "extra" + std::to_string(++extra_dumps_) : std::to_string(round)) +
                    (mode.core ? ".core" : ".dmp"));
    argv.insert(argv.end(), {"-o", path});
  }
  target_->command("reset");
  r.cli = run_command(argv, 300000);
  r.felt_ms = target_->heartbeat()["max_stall_ns"].get<double>() / 1e6;

  r.pending_after = pending_signals(pid);
  r.children_after = children(pid);
  r.tasks_after = thread_ids(pid);
  r.flags_after = vm_flags(pid);
  // The heartbeat ticks on: how long until its next tick (up to 5 s).
  r.beats_after = target_->heartbeat()["beats"].get<std::uint64_t>();
  const auto asked = std::chrono::steady_clock::now();
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    r.beats_later = target_->heartbeat()["beats"].get<std::uint64_t>();
  } while (r.beats_later == r.beats_after && std::chrono::steady_clock::now() - asked < std::chrono::seconds(5));
  r.next_beat_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - asked).count();
  const nlohmann::json poked = target_->command("poke");  // kept: the loop reads into it
  for (const auto& name : poked.at("alive")) r.alive_after.push_back(name.get<std::string>());

  if (r.cli.exit_code != 0) return r;
  if (writes_dump) {
    r.printed_pause_ms = printed_pause_ms(r.cli.out);
    r.path = path;
    read_back(r, mode);
    // The first dump of each mode is kept for LLDB and minidump_stackwalk; the others are read
    // here and removed, so a JVM's few hundred MiB a dump do not pile up.
    if (round > 0) {  // an extra dump (round -1) is kept too
      std::filesystem::remove(path);
      r.path.clear();
    }
  } else {
    try {
      r.snapshot = nlohmann::json::parse(r.cli.out);
      r.printed_pause_ms = r.snapshot.at("pause_ns").get<double>() / 1e6;
    } catch (const std::exception& e) {
      r.read_error = std::string("snapshot --json printed no JSON with pause_ns: ") + e.what();
    }
  }
  return r;
}

DumpRecord ProgramRun::extra_dump(const std::string& mode_name) {
  for (const DumpMode& mode : dump_modes()) {
    if (mode.name == mode_name) return dump_once(mode, -1);
  }
  throw std::invalid_argument("no dump mode " + mode_name);
}

void ProgramRun::read_back(DumpRecord& r, const DumpMode& mode) {
  try {
    if (mode.core) {
      view::CoreView core = view::CoreView::open(r.path);
      for (const view::ThreadState& t : core.threads()) r.dump_tids.insert(t.tid);
      if (!core.problems().empty()) r.read_error = "the core reads with problems: " + core.problems().front();
      return;
    }
    reader::Minidump dump = read_dump(r.path);
    for (const auto& t : dump.threads()) r.dump_tids.insert(static_cast<pid_t>(t.tid));
    if (!mode.full_memory) return;
    for (const auto& [marker, copies] : ready()["markers"].items()) {
      std::size_t count = 0;
      for (const reader::MemoryRange& range : dump.memory()) count += find_all(range.bytes, marker).size();
      r.marker_counts[marker] = count;
    }
  } catch (const std::exception& e) {
    r.read_error = e.what();
  }
}

std::string ProgramRun::symbol_store(std::string* why) {
  if (!symbols_made_) {
    symbols_made_ = true;
    // The module files as the program has them mapped, from the kept small dump's module list.
    const DumpRecord* small = kept("small");
    std::vector<std::string> files;
    try {
      if (!small) throw std::runtime_error("no small dump was kept");
      for (const auto& m : read_dump(small->path).modules()) {
        if (!m.name.empty() && m.name.front() == '/' && std::filesystem::is_regular_file(m.name)) files.push_back(m.name);
      }
    } catch (const std::exception& e) {
      symbols_error_ = e.what();
    }
    bool runtime = false;
    for (const std::string& file : files) {
      // Only the runtime's symbols are required: another module dump_syms cannot read (it has
      // no CFI, say) leaves the walk to Breakpad's frame-pointer and stack-scanning fallbacks.
      std::string failed = write_breakpad_symbols(file, *dir_ / "symbols");
      if (std::filesystem::path(file).filename() != spec_.runtime_module) continue;
      runtime = true;
      if (symbols_error_.empty()) symbols_error_ = failed;
    }
    if (symbols_error_.empty() && !runtime) symbols_error_ = "no module " + spec_.runtime_module + " in the small dump";
    if (symbols_error_.empty()) symbols_ = *dir_ / "symbols";
  }
  *why = symbols_error_;
  return symbols_;
}

}  // namespace snapdump::testing
