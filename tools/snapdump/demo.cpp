#include "demo.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "dump_report.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"

namespace snapdump::cli {
namespace {

// The demo process and the two pipes that drive it (its stdin and stdout).
class DemoProcess {
 public:
  explicit DemoProcess(const std::string& path) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      const char* argv[] = {path.c_str(), "--all", "--heap-mib", "64", nullptr};
      execv(path.c_str(), const_cast<char* const*>(argv));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~DemoProcess() {
    if (pid_ <= 0) return;
    (void)!write(to_, "exit\n", 5);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0;
        break;
      }
      usleep(50'000);
    }
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(to_);
    close(from_);
  }
  pid_t pid() const { return pid_; }

  nlohmann::json read_line(int timeout_ms) {
    std::string line;
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return nlohmann::json::parse(line);
      }
      pollfd p{from_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) throw std::runtime_error("the demo process did not answer");
      char chunk[4096];
      ssize_t n = read(from_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("the demo process exited unexpectedly");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  nlohmann::json command(const std::string& cmd) {
    std::string line = cmd + "\n";
    if (write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("cannot talk to the demo process");
    }
    return read_line(30'000);
  }

 private:
  pid_t pid_ = 0;
  int to_ = -1, from_ = -1;
  std::string buffer_;
};

uint64_t as_address(const nlohmann::json& v) {
  if (v.is_string()) return std::stoull(v.get<std::string>(), nullptr, 0);
  return v.get<uint64_t>();
}

// The demo process: $SNAPDUMP_DEMO_TARGET if set; next to an installed snapdump, in
// ../libexec/snapdump/ (cmake/install.cmake puts it there); else where this build made it.
std::string demo_target_path() {
  if (const char* env = std::getenv("SNAPDUMP_DEMO_TARGET")) return env;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    std::filesystem::path installed = self.parent_path().parent_path() / "libexec" / "snapdump" / "snapdump_target";
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  return SNAPDUMP_DEMO_TARGET;
}

}  // namespace

int run_demo() {
  const std::string program = demo_target_path();
  DemoProcess demo(program);
  nlohmann::json ready = demo.read_line(20'000);
  fmt::print("Started the demo process {} ({} threads, 64 MiB heap, one fd of each kind): {}\n\n",
             demo.pid(), ready["threads"].size(), program);

  DumpOptions options;
  options.type = dump::kWithFullMemoryInfo | dump::kWithThreadInfo | dump::kWithHandleData;
  CaptureFlags flags = capture_flags_for(options.type) | capture::kVaClone | capture::kThreadContextExtended |
                       capture::kCreateMeasurePerformance;
  demo.command("reset");
  Snapshot snapshot = Snapshot::capture(demo.pid(), flags, context::kAll);
  // Asked at once, before the demo process starts rewriting its heap (which, with the demo's
  // spinning threads on a small machine, keeps every core busy and delays its heartbeat).
  nlohmann::json hb = demo.command("heartbeat");
  fmt::print("Captured it through a copy-on-write VA clone: the demo process was paused {:.3f} ms "
             "(its own heartbeat saw a longest stall of {:.3f} ms).\n",
             snapshot.pause().count() / 1e6, hb.value("max_stall_ns", 0) / 1e6);

  std::string path = (std::filesystem::temp_directory_path() / fmt::format("snapdump-demo-{}.dmp", demo.pid())).string();
  DumpResult written = write_minidump(snapshot, path, options);
  fmt::print("Wrote the minidump {} ({:.1f} KiB). What it holds, read back by snapdump's reader:\n\n", path,
             written.bytes / 1024.0);
  print_dump(stdout, reader::Minidump::open(path));

  // The point of a VA clone: the demo process now rewrites its heap, and the snapshot still
  // reads the bytes of the moment of capture.
  uint64_t heap = as_address(ready["heap"]["addr"]) + 4096;
  uint64_t before = 0, after_snapshot = 0, after_live = 0;
  snapshot.read_memory(heap, {reinterpret_cast<uint8_t*>(&before), 8});
  demo.command("overwrite-heap");
  snapshot.read_memory(heap, {reinterpret_cast<uint8_t*>(&after_snapshot), 8});
  iovec local{&after_live, 8}, remote{reinterpret_cast<void*>(heap), 8};
  process_vm_readv(demo.pid(), &local, 1, &remote, 1, 0);
  fmt::print(
      "\nPoint in time: the heap word at {:#x} was {:#018x} at capture. The demo process has since "
      "overwritten it with {:#018x}; the snapshot still reads {:#018x}.\n",
      heap, before, after_live, after_snapshot);
  fmt::print("\nOpen the dump in a debugger: lldb-16 -c {} -o 'bt all'\n", path);
  snapshot.free();
  return after_snapshot == before && after_live != before ? 0 : 1;
}

}  // namespace snapdump::cli
