// What a full dump costs a target that keeps writing its heap while the dump runs (issue 13):
// the copy-on-write tax of the VA clone, against the clone that lets go of each range once it
// is written, the hold mode (--no-clone: the target stopped for the whole dump) and gcore.
//
// The target is a child of this program: a heap of N MiB, every page written once, then one
// thread writing one byte into P pages every millisecond, at random ("alloc", like a busy
// allocator) or in address order ("sweep"). It counts its writes in a page it shares with this
// program. Ticks it is late for are skipped, not caught up, so its write rate falls when its
// writes fault. Per mode, over the dump (capture to free), per second of dump:
//   sys ms/s     the target's system CPU time (its copy-on-write faults; /proc/PID/stat stime)
//   faults/s     its minor faults: each first write to a page it shares with the clone takes
//                one. With today's clone each copies the page; with the releasing clone a page
//                the clone has let go of is reused without a copy (the fault is cheap), so the
//                copying shows in sys ms/s and in the extra memory, not in this count
//   sys us/wr    the same system CPU per page it wrote during the dump: the tax on each write,
//                whatever the rate the dump left it (a target that writes more because it
//                faults less shows more sys ms/s for cheaper writes)
//   rate         its write rate as a fraction of its rate alone (measured just before)
//   extra MiB    the peak of (target + clone) proportional anonymous memory minus the target's
//                alone (smaps_rollup Pss_Anon, sampled every 20 ms): the clone's cost in RAM
//   pause ms     how long the target was stopped (hold and gcore: the whole dump)
//   written from where the releasing clone began writing memory: the sweeping writer's position
//                (DumpOptions::follow_write_front), or the lowest address. "release-in-order" is
//                the releasing clone in address order (follow_write_front off), for comparison
// Targets: the releasing clone at most half of today's clone's sys ms/s, and under half its
// extra memory at peak.
//
//   build/bench/clone_tax_bench [--sizes 256,1024,4096] [--pages-per-ms 100] [--patterns alloc,sweep]
//                               [--modes clone,release,release-in-order,hold,gcore] [--dir /var/tmp]
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "snapdump/minidump.h"
#include "snapdump/snapshot.h"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr size_t kPage = 4096;

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// The page the dirtier shares with this program.
struct Shared {
  std::atomic<uint64_t> writes{0};
  std::atomic<int> ready{0};
};

[[noreturn]] void dirtier(Shared* shared, size_t heap_mib, size_t pages_per_ms, bool sweep) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  size_t pages = (heap_mib << 20) / kPage;
  auto* heap = static_cast<uint8_t*>(mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  if (heap == MAP_FAILED) _exit(3);
  madvise(heap, pages * kPage, MADV_NOHUGEPAGE);  // 4 KiB pages: the case the clone costs most
  for (size_t i = 0; i < pages; ++i) heap[i * kPage] = static_cast<uint8_t>(i);
  shared->ready.store(1);
  std::minstd_rand rng(42);
  size_t next = 0;
  timespec tick{};
  clock_gettime(CLOCK_MONOTONIC, &tick);
  for (uint8_t round = 1;; ++round) {
    for (size_t k = 0; k < pages_per_ms; ++k) {
      size_t page = sweep ? next++ % pages : rng() % pages;
      heap[page * kPage + (round % 64) * 8] = round;
    }
    shared->writes.fetch_add(pages_per_ms, std::memory_order_relaxed);
    // The next millisecond boundary still ahead: late ticks are skipped.
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    do {
      tick.tv_nsec += 1000000;
      if (tick.tv_nsec >= 1000000000) tick.tv_nsec -= 1000000000, ++tick.tv_sec;
    } while (tick.tv_sec < now.tv_sec || (tick.tv_sec == now.tv_sec && tick.tv_nsec <= now.tv_nsec));
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, nullptr);
  }
}

// /proc/PID/stat fields 10 (minflt) and 15 (stime, clock ticks).
struct Stat {
  uint64_t minflt = 0, stime_ticks = 0;
};

Stat read_stat(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Stat s;
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return s;
  std::stringstream fields(text.substr(paren + 2));
  std::vector<std::string> f;
  for (std::string x; fields >> x;) f.push_back(x);
  // After ")": field 3 is f[0]; minflt is field 10, stime field 15.
  if (f.size() > 12) {
    s.minflt = std::stoull(f[7]);
    s.stime_ticks = std::stoull(f[12]);
  }
  return s;
}

uint64_t pss_anon_kib(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/smaps_rollup", pid));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Pss_Anon:", 0) == 0) return std::stoull(line.substr(9));
  }
  return 0;
}

struct Result {
  double seconds = 0, sys_ms_per_s = 0, faults_per_s = 0, rate_fraction = 0, extra_mib = 0, pause_ms = 0;
  double sys_us_per_write = 0;  // the target's system CPU per page it wrote during the dump
  uint64_t write_front = 0;     // where the dump began writing memory (0: address order)
};

// Samples (target + clone) Pss_Anon while the dump runs.
class MemorySampler {
 public:
  MemorySampler(pid_t target, uint64_t alone_kib) : target_(target), alone_kib_(alone_kib) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        pid_t clone = clone_.load();
        uint64_t kib = pss_anon_kib(target_) + (clone > 0 ? pss_anon_kib(clone) : 0);
        peak_kib_ = std::max(peak_kib_.load(), kib);
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  ~MemorySampler() { finish(); }
  void set_clone(pid_t clone) { clone_.store(clone); }
  double finish() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    return peak_kib_ > alone_kib_ ? (peak_kib_ - alone_kib_) / 1024.0 : 0;
  }

 private:
  pid_t target_;
  uint64_t alone_kib_;
  std::atomic<pid_t> clone_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> peak_kib_{0};
  std::thread thread_;
};

Result measure(const std::string& mode, size_t heap_mib, size_t pages_per_ms, bool sweep, const std::string& dir) {
  auto* shared = static_cast<Shared*>(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  new (shared) Shared;
  pid_t pid = fork();
  if (pid == 0) dirtier(shared, heap_mib, pages_per_ms, sweep);
  while (shared->ready.load() == 0) std::this_thread::sleep_for(5ms);
  // Alone: one second of its own rate, kernel time and memory.
  std::this_thread::sleep_for(300ms);
  uint64_t w0 = shared->writes.load();
  auto t0 = Clock::now();
  std::this_thread::sleep_for(1s);
  double alone_s = std::chrono::duration<double>(Clock::now() - t0).count();
  double alone_rate = (shared->writes.load() - w0) / alone_s;
  uint64_t alone_kib = pss_anon_kib(pid);

  std::string path = fmt::format("{}/clone_tax_{}_{}.dump", dir, getpid(), mode);
  Result r;
  MemorySampler sampler(pid, alone_kib);
  Stat before = read_stat(pid);
  uint64_t writes_before = shared->writes.load();
  auto start = Clock::now();
  if (mode == "gcore") {
    std::string cmd = fmt::format("gcore -o {} {} >/dev/null 2>&1", path, pid);
    if (std::system(cmd.c_str()) != 0) fmt::print(stderr, "gcore failed\n");
    path += fmt::format(".{}", pid);
  } else {
    snapdump::CaptureOptions options;
    options.hold = mode == "hold";
    snapdump::CaptureFlags flags = snapdump::capture_flags_for(snapdump::dump::kWithFullMemory);
    if (mode != "hold") flags |= snapdump::capture::kVaClone;
    snapdump::Snapshot snap = snapdump::Snapshot::capture(pid, flags, snapdump::context::kAll, options);
    if (auto clone = snap.va_clone_pid()) sampler.set_clone(*clone);
    snapdump::DumpOptions dump;
    dump.type = snapdump::dump::kWithFullMemory;
    dump.release_written_memory = mode == "release" || mode == "release-in-order";
    dump.follow_write_front = mode != "release-in-order";
    r.write_front = snapdump::write_minidump(snap, path, dump).write_front;
    snap.release_target();
    r.pause_ms = snap.pause().count() / 1e6;
    snap.free();
  }
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  Stat after = read_stat(pid);
  uint64_t writes = shared->writes.load() - writes_before;
  r.extra_mib = sampler.finish();
  double tick_ms = 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
  r.sys_ms_per_s = (after.stime_ticks - before.stime_ticks) * tick_ms / r.seconds;
  r.faults_per_s = (after.minflt - before.minflt) / r.seconds;
  r.sys_us_per_write = writes > 0 ? (after.stime_ticks - before.stime_ticks) * tick_ms * 1000.0 / static_cast<double>(writes) : 0;
  r.rate_fraction = alone_rate > 0 ? (writes / r.seconds) / alone_rate : 0;
  if (mode == "gcore") r.pause_ms = r.seconds * 1000;  // gdb holds every thread stopped throughout
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove(path);
  munmap(shared, kPage);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> sizes = {"256", "1024"}, patterns = {"alloc", "sweep"},
                           modes = {"clone", "release", "hold", "gcore"};
  size_t pages_per_ms = 100;
  std::string dir = "/var/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--sizes") sizes = split(value);
    else if (flag == "--patterns") patterns = split(value);
    else if (flag == "--modes") modes = split(value);
    else if (flag == "--pages-per-ms") pages_per_ms = std::stoul(value);
    else if (flag == "--dir") dir = value;
    else {
      fmt::print(stderr, "usage: clone_tax_bench [--sizes 256,1024,4096] [--pages-per-ms 100] "
                         "[--patterns alloc,sweep] [--modes clone,release,release-in-order,hold,gcore] [--dir /var/tmp]\n");
      return 2;
    }
  }
  fmt::print("{} pages written per ms; per second of dump: the target's system CPU, its minor faults, its write "
             "rate against alone; the peak extra anonymous memory of target + clone\n",
             pages_per_ms);
  fmt::print("{:>6} {:>6} {:>16} {:>8} {:>10} {:>10} {:>11} {:>6} {:>10} {:>9}  {}\n", "MiB", "write", "mode", "dump s",
             "sys ms/s", "sys us/wr", "faults/s", "rate", "extra MiB", "pause ms", "memory written from");
  for (const std::string& size : sizes) {
    for (const std::string& pattern : patterns) {
      Result clone{}, release{};
      for (const std::string& mode : modes) {
        Result r = measure(mode, std::stoul(size), pages_per_ms, pattern == "sweep", dir);
        if (mode == "clone") clone = r;
        if (mode == "release") release = r;
        fmt::print("{:>6} {:>6} {:>16} {:>8.2f} {:>10.1f} {:>10.2f} {:>11.0f} {:>6.2f} {:>10.1f} {:>9.1f}  {}\n", size, pattern,
                   mode, r.seconds, r.sys_ms_per_s, r.sys_us_per_write, r.faults_per_s, r.rate_fraction, r.extra_mib,
                   r.pause_ms,
                   r.write_front ? fmt::format("{:#x} (the target's write front)", r.write_front) : "the lowest address");
        std::fflush(stdout);
      }
      if (clone.seconds > 0 && release.seconds > 0) {
        fmt::print("{:>6} {:>6} release/clone: sys {:.2f} (target <= 0.5), sys per write {:.2f}, extra memory {:.2f} "
                   "(target < 0.5)\n",
                   size, pattern, clone.sys_ms_per_s > 0 ? release.sys_ms_per_s / clone.sys_ms_per_s : 0,
                   clone.sys_us_per_write > 0 ? release.sys_us_per_write / clone.sys_us_per_write : 0,
                   clone.extra_mib > 0 ? release.extra_mib / clone.extra_mib : 0);
      }
    }
  }
  return 0;
}
