// Every thread's backtrace of a live target, three ways in the same run: `snapdump stacks PID`,
// `eu-stack -p PID` (elfutils) and `gdb -batch -p PID -ex 'thread apply all bt'`. For each, the
// wall time of the command and how long the target was stopped, measured two ways outside the
// tool:
//   heartbeat  the target's heartbeat thread ticks every millisecond and keeps its longest gap:
//              how long that one thread was stopped (gdb stops every thread for its whole run;
//              eu-stack attaches to and unwinds one thread after another, so the heartbeat
//              feels the stop of one thread and the others are stopped in turn)
//   stopped    a sampler thread here reads /proc/PID/task/*/stat every 0.5 ms and reports the
//              span from the first to the last sample that found any thread in tracing stop
//              ('t'): the window during which some thread of the target was held (0 when no
//              sample fell into the stop: shorter than the sampling period)
// and for snapdump the pause it measured itself (first thread interrupted to last resumed).
// On a 2-core machine the heartbeat also feels the CPU the tools take from the target while it
// runs (snapdump's unwinding after the target resumed, eu-stack's and gdb's own work), so it
// is an upper bound of each one's stop.
// Target (issue 14): snapdump's pause at most a tenth of eu-stack's: snapdump's own measure of
// its pause against the window in which eu-stack held some thread of the target stopped.
//
//   build/bench/stacks_bench [--threads 16,64] [--repeat 3]
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "support/external_readers.h"
#include "support/target_process.h"

namespace {

using snapdump::testing::TargetProcess;
using Clock = std::chrono::steady_clock;
using snapdump::bench::median;
using snapdump::bench::parse_list;

// True if any thread of `pid` is in tracing stop now.
bool any_thread_traced(pid_t pid) {
  std::string dir = fmt::format("/proc/{}/task", pid);
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return false;
  bool traced = false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = ::open((dir + "/" + e->d_name + "/stat").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    // "tid (comm) S ...": the state follows the last ')'.
    const char* close = std::strrchr(buf, ')');
    if (close != nullptr && close[1] == ' ' && close[2] == 't') {
      traced = true;
      break;
    }
  }
  closedir(d);
  return traced;
}

struct Sample {
  double wall_ms = 0, heartbeat_ms = 0, stopped_ms = 0, printed_ms = -1;
  bool named = false;  // the output names the parked threads' functions
};

Sample run_tool(TargetProcess& target, const std::vector<std::string>& argv, bool snapdump) {
  target.command("reset");
  std::atomic<bool> done{false};
  Clock::time_point first{}, last{};
  std::thread sampler([&] {
    while (!done.load()) {
      if (any_thread_traced(target.pid())) {
        Clock::time_point now = Clock::now();
        if (first == Clock::time_point{}) first = now;
        last = now;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });
  Clock::time_point start = Clock::now();
  auto r = snapdump::testing::run_command(argv, 600000);
  Sample s;
  s.wall_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  done = true;
  sampler.join();
  s.stopped_ms = first == Clock::time_point{} ? 0 : std::chrono::duration<double, std::milli>(last - first).count();
  s.heartbeat_ms = target.heartbeat()["max_stall_ns"].get<double>() / 1e6;
  s.named = r.exit_code == 0 && r.out.find("park_in_nanosleep") != std::string::npos;
  if (snapdump && s.named) s.printed_ms = nlohmann::json::parse(r.out)["pause_ns"].get<double>() / 1e6;
  if (r.exit_code != 0) std::fprintf(stderr, "%s failed (%d): %s\n", argv[0].c_str(), r.exit_code, r.err.c_str());
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> thread_counts = {16, 64};
  int repeat = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) thread_counts = parse_list(argv[++i]);
    else if (!std::strcmp(argv[i], "--repeat") && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: stacks_bench [--threads 16,64] [--repeat 3]\n");
      return 2;
    }
  }
  std::printf("medians of %d runs; ms\n", repeat);
  std::printf("%7s  %-9s %9s %10s %9s %9s  %s\n", "threads", "tool", "wall", "heartbeat", "stopped", "printed", "named");
  bool ok = true;
  for (int threads : thread_counts) {
    // The main thread and the heartbeat, then the parked kinds, the rest idle sleepers.
    int workers = std::min(6, std::max(0, threads - 2));
    int idle = std::max(0, threads - 2 - workers);
    auto target = TargetProcess::spawn({"--threads", std::to_string(workers), "--idle-threads", std::to_string(idle)});
    std::string pid = std::to_string(target->pid());
    struct Tool {
      const char* name;
      std::vector<std::string> argv;
      bool snapdump;
    };
    std::vector<Tool> tools = {
        {"snapdump", {"/usr/bin/env", "DEBUGINFOD_URLS=", SNAPDUMP_CLI_PATH, "stacks", pid, "--json"}, true},
        {"eu-stack", {"/usr/bin/env", "DEBUGINFOD_URLS=", "eu-stack", "-p", pid}, false},
        {"gdb", {"/usr/bin/env", "DEBUGINFOD_URLS=", "gdb", "-nx", "-batch", "-p", pid, "-ex", "thread apply all bt"}, false},
    };
    double snapdump_felt = 0, eu_felt = 0;
    for (const Tool& tool : tools) {
      std::vector<double> wall, heartbeat, stopped, printed;
      bool named = true;
      for (int i = 0; i < repeat; ++i) {
        Sample s = run_tool(*target, tool.argv, tool.snapdump);
        wall.push_back(s.wall_ms);
        heartbeat.push_back(s.heartbeat_ms);
        stopped.push_back(s.stopped_ms);
        printed.push_back(s.printed_ms);
        named = named && s.named;
      }
      std::printf("%7d  %-9s %9.1f %10.3f %9.1f %9s  %s\n", threads, tool.name, median(wall), median(heartbeat),
                  median(stopped), tool.snapdump ? fmt::format("{:.3f}", median(printed)).c_str() : "-",
                  named ? "yes" : "NO");
      if (tool.snapdump) snapdump_felt = median(printed);
      if (std::string(tool.name) == "eu-stack") eu_felt = median(stopped);
      ok = ok && named;
    }
    bool met = snapdump_felt <= eu_felt / 10;
    std::printf("%7d  target: snapdump's pause %.3f ms <= eu-stack's stopped window / 10 = %.3f ms: %s\n", threads, snapdump_felt,
                eu_felt / 10, met ? "met" : "MISSED");
    ok = ok && met;
  }
  return ok ? 0 : 1;
}
