// Full-memory dump time next to the limit and to gdb's gcore, measured in the same run:
//   limit     read the same bytes with process_vm_readv and write them to a file in the same
//             directory (what any dumper must at least do); also shown with O_DIRECT writes,
//             the way snapdump writes a full dump's memory to a path
//   snapdump  capture through a VA clone + write_minidump (WithFullMemory)
//   gcore     gdb -batch -p PID -ex 'gcore FILE' (the target is stopped throughout)
// and the size and time of a normal dump of a 16-thread target. Target (issue 3): full dump
// <= 1.15 x the limit.
//
// Page-cache writeback and the host make single runs on a VM vary by 2x and more, so each time
// is the median of --repeat rounds (after one warm-up round), the limit and snapdump alternating
// within a round, each after a sync; the ratio is the median of the rounds' own ratios.
// --verbose prints every round on stderr.
//
//   build/bench/dump_bench [--sizes 256,1024] [--dir /var/tmp] [--repeat 3] [--no-gcore] [--verbose]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"
#include "bench_util.h"
#include "support/target_process.h"

namespace {

using namespace snapdump::bench;
using snapdump::testing::TargetProcess;

// The floor: every readable byte of the target (its map read first), copied by copy_ranges.
double limit_seconds(pid_t pid, const std::string& path, uint64_t* bytes_out, bool direct) {
  auto start = Clock::now();
  auto snap = snapdump::Snapshot::capture(pid, snapdump::capture::kVaSpace);  // just the map
  std::vector<Range> ranges;
  for (const auto& r : snap.regions()) {
    if (r.copy != snapdump::RegionCopy::unreadable && !r.io) ranges.push_back({r.start, r.end});
  }
  *bytes_out = copy_ranges(pid, ranges, path, direct);
  return seconds_since(start);
}

double snapdump_seconds(pid_t pid, const std::string& path, double* pause_ms, uint64_t* size) {
  auto start = Clock::now();
  snapdump::DumpOptions options;
  options.type = snapdump::dump::kWithFullMemory;
  auto snap = snapdump::Snapshot::capture(pid, snapdump::capture_flags_for(options.type) | snapdump::capture::kVaClone);
  *pause_ms = snap.pause().count() / 1e6;
  *size = snapdump::write_minidump(snap, path, options).bytes;
  snap.free();
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {256, 1024};
  std::string dir = std::filesystem::temp_directory_path().string();
  bool gcore = true;
  bool verbose = false;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--sizes") && i + 1 < argc) {
      sizes.clear();
      for (char* p = std::strtok(argv[++i], ","); p; p = std::strtok(nullptr, ",")) sizes.push_back(std::atoi(p));
    } else if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) {
      dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--no-gcore")) {
      gcore = false;
    } else if (!std::strcmp(argv[i], "--verbose")) {
      verbose = true;
    }
  }
  fmt::print("| heap | bytes | limit s | snapdump s | snapdump / limit | limit with O_DIRECT s | snapdump / that | "
             "pause ms | gcore s (target stopped) |\n|---|---|---|---|---|---|---|---|---|\n");
  for (int mib : sizes) {
    auto target = TargetProcess::spawn({"--heap-mib", std::to_string(mib)});
    std::string base = fmt::format("{}/snapdump-bench-{}", dir, getpid());
    uint64_t bytes = 0, size = 0;
    double pause_ms = 0;
    std::vector<double> limits, ourses, ratios, directs, direct_ratios, pauses;
    // Round 0 is a warm-up, not counted: the first pass over a heap the target has just written,
    // and the first gigabytes of page cache a run takes, cost this VM up to 10x a later pass
    // whichever program makes it.
    for (int round = 0; round <= repeat; ++round) {
      double l = 0, o = 0, d = 0;
      auto measure_limit = [&](bool direct, double& seconds) {
        sync();
        seconds = limit_seconds(target->pid(), base + ".raw", &bytes, direct);
        std::filesystem::remove(base + ".raw");
      };
      auto measure_ours = [&] {
        sync();
        o = snapdump_seconds(target->pid(), base + ".dmp", &pause_ms, &size);
        std::filesystem::remove(base + ".dmp");
      };
      // Each round in another order, so that no run always follows the same one.
      switch (round % 3) {
        case 0: measure_limit(false, l); measure_ours(); measure_limit(true, d); break;
        case 1: measure_ours(); measure_limit(true, d); measure_limit(false, l); break;
        default: measure_limit(true, d); measure_limit(false, l); measure_ours(); break;
      }
      if (round == 0) continue;
      limits.push_back(l);
      ourses.push_back(o);
      ratios.push_back(o / l);
      directs.push_back(d);
      direct_ratios.push_back(o / d);
      pauses.push_back(pause_ms);
    }
    // The ratio is the median of each round's own ratio: the two runs of a round are seconds
    // apart, so a slow spell of the machine slows both, where medians taken apart could pick
    // their values from different spells.
    double limit = median(limits), ours = median(ourses), ratio = median(ratios);
    double direct = median(directs), direct_ratio = median(direct_ratios);
    pause_ms = median(pauses);
    sync();
    double gdb = gcore ? gcore_seconds(target->pid(), base + ".core") : -1;
    fmt::print("| {} MiB | {:.0f} MiB | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {} |\n", mib,
               bytes / 1048576.0, limit, ours, ratio, direct, direct_ratio, pause_ms,
               gdb < 0 ? std::string("n/a") : fmt::format("{:.2f}", gdb));
    if (verbose) {
      for (size_t i = 0; i < ratios.size(); ++i) {
        fmt::print(stderr, "  round {}: limit {:.3f} s, snapdump {:.3f} s, ratio {:.2f}; limit with O_DIRECT {:.3f} s\n",
                   i + 1, limits[i], ourses[i], ratios[i], directs[i]);
      }
    }
    std::fflush(stdout);
    for (const char* ext : {".raw", ".dmp", ".core"}) std::filesystem::remove(base + ext);
  }
  // A normal dump of a 16-thread target: what a crash report costs.
  auto target = TargetProcess::spawn({"--threads", "6", "--idle-threads", "8", "--heap-mib", "64"});
  std::string path = fmt::format("{}/snapdump-bench-normal-{}.dmp", dir, getpid());
  auto start = Clock::now();
  auto snap = snapdump::Snapshot::capture(target->pid(), snapdump::capture_flags_for(snapdump::dump::kNormal));
  auto result = snapdump::write_minidump(snap, path, {});
  fmt::print("\nnormal dump of a 16-thread target: {:.1f} KiB in {:.1f} ms, target paused {:.3f} ms\n",
             result.bytes / 1024.0, seconds_since(start) * 1e3, snap.pause().count() / 1e6);
  std::filesystem::remove(path);
  return 0;
}
