#include "linux/permissions.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {

long status_field(const std::string& status, const char* key) {
  auto at = status.find(std::string("\n") + key);
  if (at == std::string::npos) return -1;
  at += std::strlen(key) + 1;
  return std::strtol(status.c_str() + at, nullptr, 10);
}

bool have_cap_sys_ptrace() {
  // CapEff bit 19 of /proc/self/status: avoids a libcap dependency for one bit.
  std::string self = read_text_file("/proc/self/status");
  auto at = self.find("\nCapEff:");
  if (at == std::string::npos) return false;
  unsigned long long caps = std::strtoull(self.c_str() + at + 8, nullptr, 16);
  return (caps >> 19) & 1;
}

int yama_scope() {
  try {
    return std::stoi(read_text_file("/proc/sys/kernel/yama/ptrace_scope"));
  } catch (...) {
    return -1;  // no Yama
  }
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

void check_traceable(pid_t pid) {
  if (pid <= 0) {
    throw Error(Errc::no_such_process, fmt::format("{} is not a process ID", pid));
  }
  if (pid == getpid()) throw_own_process(pid);
  std::string status;
  try {
    status = read_text_file(fmt::format("/proc/{}/status", pid));
  } catch (const Error& e) {
    if (e.code() == Errc::no_such_process) {
      throw Error(Errc::no_such_process, fmt::format("no process with PID {}", pid), ESRCH);
    }
    throw;
  }
  if (status_field(status, "Tgid:") == getpid()) throw_own_process(pid);  // one of our threads
  if (status.find("\nState:\tZ") != std::string::npos || status.find("\nState:\tX") != std::string::npos) {
    throw Error(Errc::process_exited, fmt::format("process {} has exited (it is a zombie)", pid));
  }
  long tracer = status_field(status, "TracerPid:");
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
  auto uid_at = status.find("\nUid:");
  uid_t target_uid = uid_at == std::string::npos ? 0 : static_cast<uid_t>(std::strtoul(status.c_str() + uid_at + 5, nullptr, 10));
  bool privileged = have_cap_sys_ptrace();
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

}  // namespace snapdump::os
