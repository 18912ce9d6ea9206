// One run of a real program (python3, node, a JVM: tests/real_programs/) for the real-program
// tests: the program is started once per test binary, dumped by the snapdump command in every
// mode a few times, and what each dump did to it is recorded (its heartbeat, its children,
// pending signals, smaps flags, whether its threads still answer). The tests then assert on the
// records and on the dumps kept, so the slow part (a JVM's start, gigabytes of full dumps) is
// paid once per program.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/external_readers.h"
#include "support/target_process.h"
#include "support/temp_dir.h"

namespace snapdump::testing {

struct ProgramSpec {
  std::string name;            // "python", "node", "java": the gtest instantiation name
  std::vector<std::string> argv;  // without the marker, which run() appends
  std::string runtime_module;  // the module its runtime's code is in: "python3.11", "node", "libjvm.so"
  // Functions of the runtime module that LLDB must name in some thread's backtrace: proof that
  // frames are named from the binaries on disk, not just given as addresses.
  std::vector<std::string> named_functions;
  int ready_timeout_ms = 60000;
};

// gtest prints a parameter with this: its name, not its bytes.
inline void PrintTo(const ProgramSpec& spec, std::ostream* out) { *out << spec.name; }

// How often each mode is dumped: 2 in a normal tree, 1 in a sanitizer tree (whose CLI and tracer
// are several times slower), set by tests/CMakeLists.txt. A mode none of whose rounds has its
// printed pause agree with the heartbeat (pause_agrees) gets up to 3 rounds in all, as
// cli_truth_test.cpp retries: on a busy machine one round can be off either way by noise (the
// tracer held off while it lets threads go; the program's heartbeat thread waiting for a CPU
// while snapdump and its tracer run), but a pause that is misreported is off in every round.
int dump_rounds();

struct DumpMode {
  std::string name;               // "small", "full", "full-no-clone", "core", "snapshot-json"
  std::vector<std::string> args;  // the command line after `snapdump`, {PID} standing for the pid
  bool full_memory = false;       // every readable byte is in the dump: the markers must be
  bool core = false;              // an ELF core (--format core), read back with view::CoreView
};
const std::vector<DumpMode>& dump_modes();

struct DumpRecord {
  std::string mode;
  int round = 0;  // -1 for an extra dump
  CommandResult cli;
  double printed_pause_ms = -1;  // "the target was paused X ms", or snapshot's pause_ns
  double felt_ms = -1;           // the heartbeat's longest gap over the dump
  std::uint64_t beats_after = 0, beats_later = 0;  // the heartbeat count after it, and at its next tick
  double next_beat_ms = -1;                         // how long that next tick took (5 s: none came)
  std::set<std::string> children_before, children_after;  // "PID (comm) STATE"
  std::set<std::string> pending_after;                     // pending signals
  std::map<std::uint64_t, std::string> flags_before, flags_after;  // smaps VmFlags per region
  std::set<pid_t> tasks_before, tasks_after;
  std::vector<std::string> alive_after;  // the blocked threads that answered a poke after it
  std::string path;                      // the dump, if kept (round 0 of a dump mode), else ""
  std::set<pid_t> dump_tids;             // the ThreadList (a core's NT_PRSTATUS notes), read back
  std::map<std::string, std::size_t> marker_counts;  // occurrences of each marker in the dump
  std::string read_error;                            // read_dump's exception, if any
  nlohmann::json snapshot;                           // `snapshot --json`'s output
};

class ProgramRun {
 public:
  // The run of `spec.name`, started and dumped on first use; later calls return the same run.
  // Throws nothing: a failure is kept in error() and the tests fail with it.
  static ProgramRun& get(const ProgramSpec& spec);
  // Ends every run: the programs exit, their dumps are removed.
  static void end_all();

  const ProgramSpec& spec() const { return spec_; }
  const std::string& error() const { return error_; }
  TargetProcess& target() { return *target_; }
  const nlohmann::json& ready() const { return target_->report(); }
  const std::vector<DumpRecord>& records() const { return records_; }
  // The first record of `mode` (whose dump is kept), or nullptr.
  const DumpRecord* kept(const std::string& mode) const;
  // A Breakpad symbol store holding the symbols of every module of the program that is a file
  // (made on first use with dump_syms; minidump_stackwalk needs libc's call frame information to
  // walk out of it into the runtime), or "" with why in *why.
  std::string symbol_store(std::string* why);
  // One more dump in `mode_name`, beyond the rounds, recorded the same way and kept until the run
  // ends (a test that compares dumps made in a given order makes its own).
  DumpRecord extra_dump(const std::string& mode_name);

 private:
  explicit ProgramRun(const ProgramSpec& spec);
  void run();
  // round < 0: an extra dump, kept.
  DumpRecord dump_once(const DumpMode& mode, int round);
  void read_back(DumpRecord& record, const DumpMode& mode);

  ProgramSpec spec_;
  std::string marker_;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<TargetProcess> target_;
  std::vector<DumpRecord> records_;
  std::string error_;
  std::string symbols_, symbols_error_;
  bool symbols_made_ = false;
  int extra_dumps_ = 0;
};

// True if an smaps VmFlags line ("start-end perms rd wr mr mw me dc ...") has dc: MADV_DONTFORK.
bool has_dontfork(const std::string& flags);

// The printed pause and the heartbeat's longest gap over the dump agree within
// cli_truth_test.cpp's tolerance (the larger of 15 ms and 15 % of the printed pause).
bool pause_agrees(const DumpRecord& r);

// Every start offset of `needle` in `haystack`.
std::vector<std::size_t> find_all(std::span<const std::uint8_t> haystack, const std::string& needle);

}  // namespace snapdump::testing
