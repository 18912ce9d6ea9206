#include "linux/permissions.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory_resource>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "linux/proc_files.h"
#include "linux/procfs.h"
#include "linux/text_scan.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {

// The first number of a /proc status field ("Uid:\t1000\t1000..." gives 1000), or -1.
long status_number(std::string_view status, std::string_view key, int base = 10) {
  auto value = text::find_field(status, key);
  if (!value) return -1;
  std::string_view rest = *value;
  auto number = text::parse_u64(text::next_token(rest), base);
  return number ? static_cast<long>(*number) : -1;
}

bool have_cap_sys_ptrace(std::pmr::memory_resource* scratch) {
  // CapEff bit 19 of /proc/self/status: avoids a libcap dependency for one bit.
  std::pmr::string self(scratch);
  if (read_file("/proc/self/status", self) != 0) return false;
  auto caps = text::find_field(self, "CapEff");
  auto bits = caps ? text::parse_u64(*caps, 16) : std::nullopt;
  return bits && ((*bits >> 19) & 1);
}

int yama_scope() {
  char text[16];
  size_t length = 0;
  if (read_file("/proc/sys/kernel/yama/ptrace_scope", text, sizeof text - 1, length) != 0) return -1;  // no Yama
  text[length] = '\0';
  char* end = nullptr;
  long scope = std::strtol(text, &end, 10);
  return end == text ? -1 : static_cast<int>(scope);
}

// A kernel thread (kthreadd, kworker/..., ksoftirqd/...): "Kthread: 1" in status (Linux 6.x),
// or PF_KTHREAD in stat's flags on older kernels.
bool is_kernel_thread(pid_t pid, std::string_view status) {
  if (long k = status_number(status, "Kthread"); k >= 0) return k == 1;
  char text[512];
  size_t length = 0;
  if (read_file(ProcPath(pid, "stat").c_str(), text, sizeof text - 1, length) != 0) return false;
  std::string_view stat(text, length);
  auto close = stat.rfind(')');
  if (close == std::string_view::npos) return false;
  std::string_view rest = stat.substr(close + 1);
  for (int field = 3; field < 9; ++field) text::next_token(rest);  // state ... tpgid
  auto flags = text::parse_u64(text::next_token(rest));
  constexpr uint64_t kPfKthread = 0x00200000;
  return flags && (*flags & kPfKthread);
}

[[noreturn]] void throw_own_process(pid_t pid) {
  throw Error(Errc::not_supported,
              fmt::format("{} is the calling process or one of its threads: a process cannot "
                          "ptrace itself, so it cannot capture itself. Capture it from another "
                          "process (spawn or fork a helper that captures this PID; "
                          "prctl(PR_SET_PTRACER) lets it trace its parent), or use the "
                          "Windows-compatible API's MiniDumpWriteDump(GetCurrentProcess(), ...), "
                          "which forks such a helper",
                          pid));
}

}  // namespace

void check_traceable(pid_t pid, std::pmr::memory_resource* scratch) {
  if (pid <= 0) {
    throw Error(Errc::no_such_process, fmt::format("{} is not a process ID", pid));
  }
  if (pid == getpid()) throw_own_process(pid);
  std::pmr::string status(scratch);
  ProcPath status_path(pid, "status");
  if (int err = read_file(status_path.c_str(), status); err != 0) {
    if (err == ENOENT || err == ESRCH) {
      throw Error(Errc::no_such_process, fmt::format("no process with PID {}", pid), ESRCH);
    }
    throw error_for_path(std::string(status_path.view()), err);
  }
  if (status_number(status, "Tgid") == getpid()) throw_own_process(pid);  // one of our threads
  if (is_kernel_thread(pid, status)) {
    auto name = text::find_field(status, "Name");
    std::string shown = name ? std::string(*name) : std::string("?");
    // Kernel threads name themselves, but a name is bytes: nothing unprintable reaches a terminal.
    for (char& c : shown) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    }
    throw Error(Errc::not_supported,
                fmt::format("process {} ({}) is a kernel thread: it has no user address space, user registers "
                            "or files of its own, so there is nothing to capture or dump; name a user process",
                            pid, shown));
  }
  if (status.find("\nState:\tZ") != std::string::npos || status.find("\nState:\tX") != std::string::npos) {
    throw Error(Errc::process_exited,
                fmt::format("process {} exited before it could be captured (it is a zombie: dead, not yet "
                            "reaped by its parent)",
                            pid));
  }
  long tracer = status_number(status, "TracerPid");
  if (tracer > 0) {
    std::string comm;
    try {
      comm = read_text_file(fmt::format("/proc/{}/comm", tracer));
      if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    } catch (...) {
    }
    throw Error(Errc::already_traced,
                fmt::format("process {} is already traced by process {} ({}); only one tracer can "
                            "attach: detach the debugger or strace first",
                            pid, tracer, comm.empty() ? "?" : comm));
  }
  long uid = status_number(status, "Uid");
  uid_t target_uid = uid < 0 ? 0 : static_cast<uid_t>(uid);
  bool privileged = have_cap_sys_ptrace(scratch);
  if (!privileged && target_uid != geteuid()) {
    throw Error(Errc::permission_denied,
                fmt::format("process {} belongs to uid {} and snapdump runs as uid {} without "
                            "CAP_SYS_PTRACE: run as that user, or as root",
                            pid, target_uid, geteuid()),
                EPERM);
  }
  int scope = yama_scope();
  if (!privileged && scope >= 2) {
    throw Error(Errc::permission_denied,
                fmt::format("Yama ptrace_scope is {} (/proc/sys/kernel/yama/ptrace_scope): only "
                            "CAP_SYS_PTRACE may trace{}; run as root",
                            scope, scope == 3 ? " (3: nobody, until reboot)" : ""),
                EPERM);
  }
  // ptrace_scope 1 allows only descendants (or PR_SET_PTRACER); the seize itself will tell, and
  // its error names the scope (see TracedThread::seize).
}

bool only_ancestors_may_trace(std::pmr::memory_resource* scratch) {
  return yama_scope() == 1 && !have_cap_sys_ptrace(scratch);
}

}  // namespace snapdump::os
