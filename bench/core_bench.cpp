// An ELF core of a target with an N MiB heap (4 KiB pages, every page written once), as
// `snapdump dump --format core` makes it, next to the floor and to gdb's gcore in the same run:
//   fork      the target's own bare fork(): the floor of any clone's pause
//   core      capture_flags_for_core() | kVaClone, then write_core to a path in --dir with the
//             CLI's options (the process's coredump_filter, by default 0x33: anonymous memory;
//             release_written_memory); "core --full" the same with CoreOptions::full (every
//             readable mapping). The pause is the capture's own counter (first interrupt to last
//             resume; the clone's fork inside it is shown too) and the longest gap the target's
//             heartbeat thread saw (read after the capture, outside the wall time); the wall
//             time runs from reading coredump_filter to the core's fsync and rename.
//   limit     the bytes that core holds, read from the live target with process_vm_readv and
//             written to one file in --dir, then fsync'd: exactly the data ranges of the core's
//             PT_LOADs (their file extents found with SEEK_DATA/SEEK_HOLE, so the pages a core
//             leaves as holes are not read either; headers and notes are not written), once
//             through the page cache and once with O_DIRECT (as snapdump writes). The limit is
//             the faster of the two in that round.
//   gcore     gdb -batch -nx -p PID -ex 'gcore FILE', then an fsync of its file: gdb holds the
//             target stopped from its attach to its detach, so its pause is the heartbeat's
//             gap; compared with the default core's limit (gdb 13 follows coredump_filter too).
// Targets (issue 14): pause <= 1.2 x fork + 2 ms and wall <= 1.15 x limit; each ratio is the
// median of the rounds' own ratios (a slow spell of the machine then slows both sides).
//
// Each figure is the median of --repeat rounds after one warm-up round (the first pass over a
// freshly written heap, and the first gigabytes of page cache, cost much more whoever makes
// them); within a round the runs go in a rotating order, each after a sync. Every file is
// removed as soon as it is measured; a size whose core would not fit in --dir's free space is
// skipped with a message. --verbose prints every round on stderr.
//
//   build/bench/core_bench [--sizes 256,1024,4096] [--dir /var/tmp] [--repeat 3] [--no-gcore] [--verbose]
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "snapdump/core.h"
#include "snapdump/snapshot.h"
#include "bench_util.h"
#include "support/target_process.h"

namespace {

using namespace snapdump::bench;
using snapdump::testing::TargetProcess;

// What one round measured of one way of writing the core.
struct Run {
  double pause_ms = -1, clone_fork_ms = -1, saw_ms = 0, wall_s = 0, capture_s = 0;
  uint64_t disk_bytes = 0;
};

// The rounds of one row: "core", "core --full" or "gcore".
struct Row {
  std::string name;
  std::vector<Range> ranges;  // what its limit reads (gcore: the default core's)
  std::vector<double> pause, clone_fork, saw, wall, limit, direct, pause_ratio, saw_ratio, wall_ratio;
  uint64_t disk_bytes = 0, limit_bytes = 0;
};

uint64_t disk_bytes(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_blocks) * 512 : 0;
}

// The heartbeat ticks every millisecond: 20 ms after the target runs again it has seen the gap.
double heartbeat_saw_ms(TargetProcess& target) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return target.heartbeat()["max_stall_ns"].get<double>() / 1e6;
}

// The target's memory a core file holds: its PT_LOADs' file extents that are data, not holes.
std::vector<Range> core_data_ranges(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  Elf64_Ehdr eh{};
  if (fd < 0 || pread(fd, &eh, sizeof eh, 0) != sizeof eh) throw std::runtime_error("cannot read the core " + path);
  uint64_t phnum = eh.e_phnum;
  if (phnum == PN_XNUM) {  // the count is in section header 0
    Elf64_Shdr sh{};
    if (pread(fd, &sh, sizeof sh, static_cast<off_t>(eh.e_shoff)) != sizeof sh) throw std::runtime_error("bad core " + path);
    phnum = sh.sh_info;
  }
  std::vector<Elf64_Phdr> ph(phnum);
  ssize_t want = static_cast<ssize_t>(phnum * sizeof(Elf64_Phdr));
  if (pread(fd, ph.data(), static_cast<size_t>(want), static_cast<off_t>(eh.e_phoff)) != want) {
    throw std::runtime_error("bad core " + path);
  }
  std::vector<Range> ranges;
  for (const Elf64_Phdr& p : ph) {
    if (p.p_type != PT_LOAD || p.p_filesz == 0) continue;
    off_t end = static_cast<off_t>(p.p_offset + p.p_filesz);
    for (off_t at = static_cast<off_t>(p.p_offset); at < end;) {
      off_t data = lseek(fd, at, SEEK_DATA);
      if (data < 0 || data >= end) break;
      off_t hole = std::min(lseek(fd, data, SEEK_HOLE), end);
      ranges.push_back({p.p_vaddr + static_cast<uint64_t>(data) - p.p_offset, p.p_vaddr + static_cast<uint64_t>(hole) - p.p_offset});
      at = hole;
    }
  }
  close(fd);
  return ranges;
}

// What `snapdump dump PID --format core [--full] -o PATH` does (tools/snapdump/dump_command.cpp).
Run snapdump_core(TargetProcess& target, const std::string& path, bool full) {
  target.command("reset");
  Run run;
  auto start = Clock::now();
  snapdump::CoreOptions options;
  options.full = full;
  options.release_written_memory = true;
  options.coredump_filter = snapdump::read_coredump_filter(target.pid());
  snapdump::DumpOutput output = snapdump::DumpOutput::to_path(path);
  auto snap = snapdump::Snapshot::capture(target.pid(), snapdump::capture_flags_for_core() | snapdump::capture::kVaClone |
                                                             snapdump::capture::kCreateMeasurePerformance);
  run.capture_s = run.wall_s = seconds_since(start);
  run.pause_ms = static_cast<double>(snap.performance().pause.wall_ns) / 1e6;
  run.clone_fork_ms = static_cast<double>(snap.performance().clone_fork_ns) / 1e6;
  run.saw_ms = heartbeat_saw_ms(target);  // not in the wall time
  start = Clock::now();
  snapdump::write_core(snap, output, options);
  snap.free();
  run.wall_s += seconds_since(start);
  run.disk_bytes = disk_bytes(path);
  return run;
}

Run gcore(TargetProcess& target, const std::string& path) {
  target.command("reset");
  Run run;
  auto start = Clock::now();
  if (gcore_seconds(target.pid(), path) < 0) throw std::runtime_error("gdb's gcore failed (--no-gcore skips it)");
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  run.wall_s = seconds_since(start);
  run.saw_ms = heartbeat_saw_ms(target);
  run.disk_bytes = disk_bytes(path);
  return run;
}

std::string ms(double v) { return v < 0 ? "-" : fmt::format("{:.2f}", v); }

void measure(int mib, const std::string& dir, int repeat, bool with_gcore, bool verbose) {
  // Writing 4 GiB of 4 KiB pages takes a loaded machine longer than spawn()'s 20 s.
  auto target = TargetProcess::spawn_program({snapdump::testing::target_path(), "--heap-mib", std::to_string(mib)}, 180000);
  const std::string base = fmt::format("{}/core-bench-{}", dir, getpid());
  const std::string core_path = base + ".core", raw_path = base + ".raw";
  std::vector<Row> rows(with_gcore ? 3 : 2);
  rows[0].name = "core";
  rows[1].name = "core --full";
  if (with_gcore) rows[2].name = "gcore";
  std::vector<double> forks;
  for (int round = 0; round <= repeat; ++round) {
    double fork_ms = target->command("fork")["fork_ns"].get<double>() / 1e6;
    std::vector<Run> runs(rows.size());
    std::vector<double> limit(rows.size(), -1), direct(rows.size(), -1);
    // The jobs of a round. Round 0 (not counted) writes the cores first: their ranges are what
    // the limits read. gcore is left out of it: it only costs time.
    std::vector<std::function<void()>> jobs;
    for (size_t i = 0; i < 2; ++i) {
      jobs.push_back([&, i] {
        runs[i] = snapdump_core(*target, core_path, i == 1);
        if (round == 0) rows[i].ranges = core_data_ranges(core_path);
        std::filesystem::remove(core_path);
      });
    }
    if (with_gcore && round > 0) {
      jobs.push_back([&] {
        runs[2] = gcore(*target, core_path);
        std::filesystem::remove(core_path);
      });
    }
    for (size_t i = 0; i < 2; ++i) {
      for (bool d : {false, true}) {
        jobs.push_back([&, i, d] {
          auto start = Clock::now();
          rows[i].limit_bytes = copy_ranges(target->pid(), rows[i].ranges, raw_path, d);
          (d ? direct : limit)[i] = seconds_since(start);
          std::filesystem::remove(raw_path);
        });
      }
    }
    std::rotate(jobs.begin(), jobs.begin() + (round * 2) % jobs.size(), jobs.end());
    for (auto& job : jobs) {
      sync();
      job();
    }
    if (round == 0) continue;
    forks.push_back(fork_ms);
    double bound_ms = 1.2 * fork_ms + 2.0;
    for (size_t i = 0; i < rows.size(); ++i) {
      Row& r = rows[i];
      size_t li = i == 2 ? 0 : i;  // gcore against the default core's limit
      double floor_s = std::min(limit[li], direct[li]);
      r.pause.push_back(runs[i].pause_ms);
      r.clone_fork.push_back(runs[i].clone_fork_ms);
      r.saw.push_back(runs[i].saw_ms);
      r.wall.push_back(runs[i].wall_s);
      r.limit.push_back(limit[li]);
      r.direct.push_back(direct[li]);
      r.pause_ratio.push_back(runs[i].pause_ms / bound_ms);
      r.saw_ratio.push_back(runs[i].saw_ms / bound_ms);
      r.wall_ratio.push_back(runs[i].wall_s / (1.15 * floor_s));
      r.disk_bytes = runs[i].disk_bytes;
      if (verbose) {
        fmt::print(stderr, "  {} MiB round {} {}: fork {:.2f} ms, pause {} ms (clone's fork {} ms), heartbeat saw {:.2f} ms, "
                   "wall {:.3f} s (capture {:.3f} s), limit {:.3f} s, with O_DIRECT {:.3f} s\n", mib, round, r.name, fork_ms,
                   ms(runs[i].pause_ms), ms(runs[i].clone_fork_ms), runs[i].saw_ms, runs[i].wall_s, runs[i].capture_s,
                   limit[li], direct[li]);
      }
    }
  }
  double fork_ms = median(forks);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    bool gdb = i == 2;
    fmt::print("| {} MiB | {} | {:.0f} | {:.0f} | {:.2f} | {} | {} | {:.2f} | {} | {:.2f} | {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n", mib,
               r.name, r.disk_bytes / 1048576.0, rows[gdb ? 0 : i].limit_bytes / 1048576.0, fork_ms,
               gdb ? "-" : ms(median(r.pause)), gdb ? "-" : ms(median(r.clone_fork)), median(r.saw),
               gdb ? "-" : fmt::format("{:.2f}", median(r.pause_ratio)), median(r.saw_ratio), median(r.wall),
               median(r.limit), median(r.direct), median(r.wall_ratio));
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {256, 1024, 4096};
  std::string dir = "/var/tmp";
  bool with_gcore = true, verbose = false;
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--sizes" && i + 1 < argc) sizes = parse_list(argv[++i]);
    else if (arg == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (arg == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (arg == "--no-gcore") with_gcore = false;
    else if (arg == "--verbose") verbose = true;
    else {
      fmt::print(stderr, "core_bench: unknown argument {}\nusage: core_bench [--sizes 256,1024,4096] [--dir /var/tmp] "
                 "[--repeat 3] [--no-gcore] [--verbose]\n", arg);
      return 2;
    }
  }
  fmt::print("| heap | dump | MiB on disk | limit MiB | fork ms | pause ms | clone's fork ms | heartbeat saw ms | "
             "pause / (1.2 fork + 2 ms) | saw / (1.2 fork + 2 ms) | wall s | limit s | limit O_DIRECT s | "
             "wall / (1.15 limit) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  try {
    for (int mib : sizes) {
      // One file at a time: the largest, gcore's or the full core, is the heap and the
      // libraries' code; a quarter and 256 MiB more leave room for both.
      struct statvfs fs {};
      uint64_t need = (static_cast<uint64_t>(mib) * 5 / 4 + 256) << 20;
      if (statvfs(dir.c_str(), &fs) != 0) throw std::runtime_error(fmt::format("{}: {}", dir, std::strerror(errno)));
      uint64_t free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
      if (free_bytes < need) {
        fmt::print("| {} MiB | skipped: {} has {} MiB free, its core needs about {} MiB |\n", mib, dir, free_bytes >> 20, need >> 20);
        continue;
      }
      measure(mib, dir, repeat, with_gcore, verbose);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "core_bench: {}\n", e.what());
    for (const char* ext : {".core", ".raw"}) std::filesystem::remove(fmt::format("{}/core-bench-{}{}", dir, getpid(), ext));
    return 1;
  }
  return 0;
}
