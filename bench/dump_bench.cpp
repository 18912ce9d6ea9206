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
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"
#include "support/target_process.h"

namespace {

using Clock = std::chrono::steady_clock;
using snapdump::testing::TargetProcess;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The floor: every readable byte of the target, read with process_vm_readv and written out.
// With `direct`, the same written with O_DIRECT (as snapdump writes a full dump's memory to a
// path), to show what the limit's reading costs with the page cache out of the way.
double limit_seconds(pid_t pid, const std::string& path, uint64_t* bytes_out, bool direct) {
  auto start = Clock::now();
  auto snap = snapdump::Snapshot::capture(pid, snapdump::capture::kVaSpace);  // just the map
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0), 0644);
  if (fd < 0) {
    fmt::print(stderr, "cannot create {}: {}\n", path, std::strerror(errno));
    std::exit(1);
  }
  // The writer's chunk size, aligned for O_DIRECT.
  constexpr size_t kChunk = 4 << 20;
  std::unique_ptr<uint8_t, decltype(&std::free)> buffer(static_cast<uint8_t*>(std::aligned_alloc(4096, kChunk)), &std::free);
  std::span<uint8_t> chunk(buffer.get(), kChunk);
  uint64_t total = 0;
  for (const auto& r : snap.regions()) {
    if (r.copy == snapdump::RegionCopy::unreadable || r.io) continue;
    for (uint64_t at = r.start; at < r.end;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), r.end - at));
      iovec local{chunk.data(), want}, remote{reinterpret_cast<void*>(at), want};
      ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
      if (n <= 0) break;
      // A short read leaves the rest of the file unaligned: through the page cache then.
      if (direct && n % 4096 != 0) {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
        direct = false;
      }
      if (write(fd, chunk.data(), static_cast<size_t>(n)) != n) break;
      total += static_cast<uint64_t>(n);
      at += static_cast<uint64_t>(n);
    }
  }
  fsync(fd);
  close(fd);
  *bytes_out = total;
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double gcore_seconds(pid_t pid, const std::string& path) {
  auto start = Clock::now();
  std::string cmd = fmt::format("gdb -batch -nx -p {} -ex 'gcore {}' >/dev/null 2>&1", pid, path);
  if (std::system(cmd.c_str()) != 0) return -1;
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
