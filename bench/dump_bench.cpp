// Full-memory dump time next to the limit and to gdb's gcore, measured in the same run:
//   limit     read the same bytes with process_vm_readv and write them to a file in the same
//             directory (what any dumper must at least do)
//   snapdump  capture through a VA clone + write_minidump (WithFullMemory)
//   gcore     gdb -batch -p PID -ex 'gcore FILE' (the target is stopped throughout)
// and the size and time of a normal dump of a 16-thread target. Target (issue 3): full dump
// <= 1.15 x the limit.
//
// Page-cache writeback makes single runs on a VM vary by 2x, so each figure is the median of
// --repeat rounds, the limit and snapdump alternating within a round, each after a sync.
//
//   build/bench/dump_bench [--sizes 256,1024] [--dir /var/tmp] [--repeat 3] [--no-gcore]
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
double limit_seconds(pid_t pid, const std::string& path, uint64_t* bytes_out) {
  auto start = Clock::now();
  auto snap = snapdump::Snapshot::capture(pid, snapdump::capture::kVaSpace);  // just the map
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  std::vector<uint8_t> chunk(4 << 20);  // the writer's chunk size
  uint64_t total = 0;
  for (const auto& r : snap.regions()) {
    if (r.copy == snapdump::RegionCopy::unreadable || r.io) continue;
    for (uint64_t at = r.start; at < r.end;) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(chunk.size(), r.end - at));
      iovec local{chunk.data(), want}, remote{reinterpret_cast<void*>(at), want};
      ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
      if (n <= 0) break;
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
    }
  }
  fmt::print("| heap | bytes | limit s | snapdump s | snapdump / limit | pause ms | gcore s (target stopped) |\n"
             "|---|---|---|---|---|---|---|\n");
  for (int mib : sizes) {
    auto target = TargetProcess::spawn({"--heap-mib", std::to_string(mib)});
    std::string base = fmt::format("{}/snapdump-bench-{}", dir, getpid());
    uint64_t bytes = 0, size = 0;
    double pause_ms = 0;
    std::vector<double> limits, ourses, pauses;
    for (int round = 0; round < repeat; ++round) {
      double l = 0, o = 0;
      auto measure_limit = [&] {
        sync();
        l = limit_seconds(target->pid(), base + ".raw", &bytes);
        std::filesystem::remove(base + ".raw");
      };
      auto measure_ours = [&] {
        sync();
        o = snapdump_seconds(target->pid(), base + ".dmp", &pause_ms, &size);
        std::filesystem::remove(base + ".dmp");
      };
      if (round % 2 == 0) {
        measure_limit();
        measure_ours();
      } else {
        measure_ours();
        measure_limit();
      }
      limits.push_back(l);
      ourses.push_back(o);
      pauses.push_back(pause_ms);
    }
    double limit = median(limits), ours = median(ourses);
    pause_ms = median(pauses);
    sync();
    double gdb = gcore ? gcore_seconds(target->pid(), base + ".core") : -1;
    fmt::print("| {} MiB | {:.0f} MiB | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {} |\n", mib, bytes / 1048576.0, limit,
               ours, ours / limit, pause_ms, gdb < 0 ? std::string("n/a") : fmt::format("{:.2f}", gdb));
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
