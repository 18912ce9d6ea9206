// read_coredump_filter (snapdump/core.h): /proc/PID/coredump_filter, the process's choice of
// what its core holds. Only this layer reads /proc.
#include <string>

#include <fmt/format.h>

#include "linux/procfs.h"
#include "snapdump/core.h"

namespace snapdump {

uint32_t read_coredump_filter(pid_t pid) {
  std::string path = fmt::format("/proc/{}/coredump_filter", pid);
  std::string text;
  if (int err = os::try_read_text_file(path, text); err != 0) throw os::error_for_path(path, err);
  size_t used = 0;
  unsigned long value = 0;
  try {
    value = std::stoul(text, &used, 16);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || value > 0xffffffffUL) throw Error(Errc::io_error, fmt::format("{} holds no filter: '{}'", path, text));
  return static_cast<uint32_t>(value);
}

}  // namespace snapdump
