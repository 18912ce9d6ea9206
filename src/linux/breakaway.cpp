#include "linux/breakaway.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "linux/proc_files.h"
#include "linux/procfs.h"
#include "snapdump/error.h"

namespace snapdump::os {

std::string cgroup_of(pid_t pid) {
  std::pmr::string text;
  return std::string(cgroup_in(pid, text));
}

std::string_view cgroup_in(pid_t pid, std::pmr::string& text) {
  int err = pid == 0 ? read_file("/proc/self/cgroup", text) : read_file(ProcPath(pid, "cgroup").c_str(), text);
  if (err != 0) return {};
  // cgroup v2 has one line "0::/path".
  std::string_view view = text;
  auto at = view.find("0::");
  if (at == std::string_view::npos) return {};
  auto end = view.find('\n', at);
  return view.substr(at + 3, end == std::string_view::npos ? std::string_view::npos : end - at - 3);
}

void break_away(pid_t clone_pid, pid_t target_pid, bool optional, std::pmr::memory_resource* scratch) {
  std::pmr::string our_text(scratch), their_text(scratch);
  std::string_view ours = cgroup_in(0, our_text);
  std::string_view theirs = cgroup_in(target_pid, their_text);
  if (ours.empty() || theirs.empty()) {
    if (optional) return;
    throw Error(Errc::not_supported, "breakaway needs cgroup v2 (/proc/PID/cgroup has no 0:: line)");
  }
  if (ours == theirs) return;  // already charged to snapdump's own cgroup
  std::pmr::string procs(scratch);
  procs.append("/sys/fs/cgroup").append(ours).append("/cgroup.procs");
  int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    char pid[16];
    int length = std::snprintf(pid, sizeof pid, "%d", static_cast<int>(clone_pid));
    if (write(fd, pid, static_cast<size_t>(length)) < 0) err = errno;
    close(fd);
  }
  if (err != 0 && !optional) {
    throw Error(errc_from_errno(err),
                fmt::format("cannot move the VA clone out of cgroup {} into {}: {}", theirs, procs,
                            std::strerror(err)),
                err);
  }
}

}  // namespace snapdump::os
