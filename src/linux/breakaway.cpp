#include "linux/breakaway.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "snapdump/error.h"

namespace snapdump::os {

std::string cgroup_of(pid_t pid) {
  std::string text;
  try {
    text = read_text_file(pid == 0 ? std::string("/proc/self/cgroup") : fmt::format("/proc/{}/cgroup", pid));
  } catch (const Error&) {
    return "";
  }
  // cgroup v2 has one line "0::/path".
  auto at = text.find("0::");
  if (at == std::string::npos) return "";
  auto end = text.find('\n', at);
  return text.substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
}

void break_away(pid_t clone_pid, pid_t target_pid, bool optional) {
  std::string ours = cgroup_of(0);
  std::string theirs = cgroup_of(target_pid);
  if (ours.empty() || theirs.empty()) {
    if (optional) return;
    throw Error(Errc::not_supported, "breakaway needs cgroup v2 (/proc/PID/cgroup has no 0:: line)");
  }
  if (ours == theirs) return;  // already charged to snapdump's own cgroup
  std::string procs = "/sys/fs/cgroup" + ours + "/cgroup.procs";
  int fd = open(procs.c_str(), O_WRONLY | O_CLOEXEC);
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    std::string pid = std::to_string(clone_pid);
    if (write(fd, pid.data(), pid.size()) < 0) err = errno;
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
