// Command-line flags of snapdump_target.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace sdtarget {

struct Options {
  std::size_t threads = 6;       // parked workers, cycling through the six park kinds
  std::size_t heap_mib = 16;
  std::size_t spin_threads = 0;  // extra user-space spinners for load
  std::size_t idle_threads = 0;  // extra nanosleep threads for many-thread benches
  bool fds = false;
  bool mappings = false;
  std::size_t dontfork_mib = 0;  // a region of this size marked MADV_DONTFORK
  // N regions marked MADV_DONTFORK with holes between them, as V8 lays out its heap, and among
  // them a plain region and an unreadable DONTFORK one (create_scattered_dontfork)
  std::size_t dontfork_scatter = 0;
  std::size_t untouched_mib = 0;  // a private region of this size with one page written
  bool avx = false;
  bool libs = false;
  bool thp = false;
  // A file mapping two pages longer than its file: readable in /proc/PID/maps, but reading
  // past the file's end fails (an unreadable tail inside a readable region).
  bool truncated_mapping = false;
  bool churn = false;            // a thread creating and joining threads without end
  std::size_t sweep_mib = 0;     // a region the "sweep N" command writes in address order
  // PR_SET_CHILD_SUBREAPER: the kernel hands this process the orphans among its descendants.
  bool subreaper = false;
  // Threads, files and a socket whose names are not UTF-8 or hold escape sequences
  // (target_hostile_names.h).
  bool hostile_names = false;
  // A seccomp filter on every thread (see target_seccomp.h), "none" for no filter.
  std::string seccomp = "none";
};

// Exits with status 2 and a usage message on a bad command line.
Options parse_options(int argc, char** argv);

nlohmann::json options_json(const Options& options);

}  // namespace sdtarget
