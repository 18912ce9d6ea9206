// Runs the outside readers of ELF cores on a core file and parses what they print: gdb (its
// backtraces, as a user runs it: gdb -batch EXE CORE), elfutils' eu-stack, eu-unstrip and
// eu-readelf (Debian packages gdb and elfutils, scripts/setup.sh installs them), and reads the
// core's program headers and memory directly (an independent check of the file's layout).
// A missing tool makes the tests fail, not skip.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/external_readers.h"
#include "support/target_process.h"

namespace snapdump::testing {

// Thread (LWP) -> the function of each frame, innermost first ("??" where gdb names none).
using Backtraces = std::map<pid_t, std::vector<std::string>>;

struct GdbResult {
  CommandResult run;
  Backtraces threads;
  std::string terminated_by;  // "SIGSEGV" from "Program terminated with signal SIGSEGV", or ""
  pid_t current_thread = 0;   // the LWP `info threads` marks with '*'
};

// gdb -nx -batch -ex 'info threads' -ex 'thread apply all bt' EXE CORE (no debuginfod).
GdbResult gdb_backtraces(const std::string& exe, const std::string& core);
// The threads of a Backtraces map.
std::set<pid_t> tids_of(const Backtraces& threads);
// The thread ids a target's READY report lists (the main thread's among them).
std::set<pid_t> report_tids(const TargetProcess& target);

// gdb's own core of a live process: gcore -o PREFIX PID writes PREFIX.PID; returns that path.
std::string run_gcore(pid_t pid, const std::string& prefix);

// The kernel's own core of a target: KernelCoreTarget starts snapdump_target with `args` in
// `dir` with an unlimited RLIMIT_CORE (env -C, prlimit); kernel_core kills it with SIGSEGV
// (sent, so si_code SI_USER), waits for it and returns the core the kernel wrote there. Needs
// /proc/sys/kernel/core_pattern "core" (a file in the process's directory, the kernel's
// default); throws std::runtime_error saying so otherwise, or when no core appeared.
std::unique_ptr<TargetProcess> spawn_for_kernel_core(const std::string& dir, const std::vector<std::string>& args);
std::string kernel_core(TargetProcess& target, const std::string& dir);

// eu-stack --core CORE -e EXE: the same map.
Backtraces eu_stack(const std::string& exe, const std::string& core, CommandResult* run = nullptr);

// eu-unstrip -n with --core CORE or --pid PID: module start address -> build-id (hex, "" when
// none was found) for the modules backed by a file.
std::map<uint64_t, std::string> eu_unstrip_build_ids(const std::vector<std::string>& source_args,
                                                     CommandResult* run = nullptr);

struct ElfSegment {
  uint32_t type = 0, flags = 0;
  uint64_t offset = 0, vaddr = 0, file_size = 0, memory_size = 0;
};

// The program headers of an ELF file (extended numbering understood); empty if it is not one.
std::vector<ElfSegment> elf_segments(const std::string& path);
// Reads `size` bytes of the process's memory at `address` from a core's PT_LOADs; nullopt when
// some byte is not in the file.
std::optional<std::vector<uint8_t>> core_memory(const std::string& path, const std::vector<ElfSegment>& segments,
                                                uint64_t address, size_t size);

// /usr/bin/gdb etc., or "" if not installed.
std::string tool_path(const std::string& name);

}  // namespace snapdump::testing
