// snapdump_target: a process with known threads, memory, fds and libraries for the tests to
// capture. It sets everything up, prints one READY line of JSON, then serves commands read
// from stdin until "exit" or EOF.
#include <cerrno>
#include <climits>
#include <csignal>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>

#include "park_functions.h"
#include "target_cleanup.h"
#include "target_commands.h"
#include "target_fds.h"
#include "target_heap.h"
#include "target_hostile_names.h"
#include "target_json.h"
#include "target_libs.h"
#include "target_mappings.h"
#include "target_markers.h"
#include "target_churn.h"
#include "target_sweep.h"
#include "target_options.h"
#include "target_seccomp.h"
#include "thread_registry.h"

namespace {

std::string own_executable() {
  char path[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string();
}

// Raw read(2) so that a read interrupted by a tracer is retried instead of looking like EOF
// the way stdio's sticky error flag would make it look.
bool read_line(std::string& buffer, std::string& line) {
  for (;;) {
    if (auto newline = buffer.find('\n'); newline != std::string::npos) {
      line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return true;
    }
    char chunk[4096];
    ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      sdtarget::count_main_eintr();
      continue;
    }
    if (n <= 0) {
      // A last line without a newline still counts.
      if (buffer.empty()) return false;
      line.swap(buffer);
      buffer.clear();
      return true;
    }
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

nlohmann::json avx_json(bool requested, bool enabled) {
  nlohmann::json avx{{"requested", requested}, {"enabled", enabled}};
  nlohmann::json values = nlohmann::json::object();
  if (enabled) {
    for (int reg = 0; reg < sdtarget::kAvxRegisters; ++reg) {
      const unsigned char* bytes = sdtarget::avx_register_bytes(reg);
      values["ymm" + std::to_string(reg)] = sdtarget::hex_bytes(bytes, 32);
      values["xmm" + std::to_string(reg)] = sdtarget::hex_bytes(bytes, 16);
    }
    for (const auto& slot : sdtarget::thread_slots())
      if (slot->kind == sdtarget::ThreadKind::avx) avx["tid"] = slot->tid.load();
  }
  avx["values"] = values;
  avx["byte_order"] = "lowest byte first; byte i of ymmK = (K*32 + i) ^ 0x5a";
  return avx;
}

}  // namespace

int main(int argc, char** argv) {
  const sdtarget::Options options = sdtarget::parse_options(argc, argv);
  sdtarget::install_termination_handlers();
  // A write to a vanished test should fail with EPIPE (and end us quietly), not kill us
  // before the temp files are gone.
  signal(SIGPIPE, SIG_IGN);
  // Lets a tracer that is not our parent (the snapdump CLI in integration tests) attach
  // under Yama ptrace_scope=1; harmless where Yama is absent.
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  if (options.subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    std::perror("prctl(PR_SET_CHILD_SUBREAPER)");
    return 2;
  }

  // Every thread inherits this mask, so SIGUSR2 only ever reaches the signalfd, and a SIGCHLD
  // stays pending, where the "pending-signals" command sees it, instead of being discarded by
  // its default disposition: tests prove a capture sends the target none.
  sigset_t blocked;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGUSR2);
  sigaddset(&blocked, SIGCHLD);
  sigprocmask(SIG_BLOCK, &blocked, nullptr);

  sdtarget::create_heap(options.heap_mib, options.thp);
  nlohmann::json fds = options.fds ? sdtarget::create_fds() : nlohmann::json::array();
  nlohmann::json mappings = options.mappings ? sdtarget::create_mappings() : nlohmann::json::array();
  if (options.truncated_mapping) mappings.push_back(sdtarget::create_truncated_mapping());
  if (options.dontfork_mib > 0) mappings.push_back(sdtarget::create_large_dontfork(options.dontfork_mib));
  if (options.untouched_mib > 0) mappings.push_back(sdtarget::create_untouched(options.untouched_mib));
  if (options.dontfork_scatter > 0) {
    for (auto& m : sdtarget::create_scattered_dontfork(options.dontfork_scatter)) mappings.push_back(std::move(m));
  }
  nlohmann::json libs = options.libs ? sdtarget::load_libraries() : nlohmann::json(nullptr);

  const bool avx = options.avx && sdtarget::avx_supported();
  sdtarget::start_threads({.park_threads = options.threads,
                           .spin_threads = options.spin_threads,
                           .idle_threads = options.idle_threads,
                           .avx = avx});
  for (auto& entry : sdtarget::thread_fds_json()) fds.push_back(std::move(entry));
  if (options.churn) sdtarget::start_churn();
  nlohmann::json sweep = options.sweep_mib > 0 ? sdtarget::create_sweep(options.sweep_mib) : nlohmann::json(nullptr);
  nlohmann::json hostile = options.hostile_names ? sdtarget::create_hostile_names() : nlohmann::json(nullptr);
  // Last, once every thread runs: TSYNC puts the filter on all of them.
  if (!sdtarget::install_seccomp(options.seccomp)) {
    std::perror("seccomp");
    return 2;
  }

  nlohmann::json ready{{"ready", true},
                       {"pid", getpid()},
                       {"exe", own_executable()},
                       {"options", sdtarget::options_json(options)},
                       {"heap", sdtarget::heap_json()},
                       {"threads", sdtarget::threads_json()},
                       {"functions", sdtarget::functions_json()},
                       {"fds", fds},
                       {"mappings", mappings},
                       {"avx", avx_json(options.avx, avx)},
                       {"libs", libs},
                       {"markers", sdtarget::markers_json()},
                       {"hostile_names", hostile},
                       {"sweep", sweep}};
  sdtarget::write_json_line_led_by("ready", ready);

  std::string buffer;
  std::string line;
  while (read_line(buffer, line)) {
    if (line.empty()) continue;
    if (line == "exit") {
      sdtarget::write_json_line({{"ok", true}, {"exiting", true}});
      break;
    }
    sdtarget::write_json_line(sdtarget::run_command(line));
  }
  sdtarget::cleanup_and_exit(0);
}
