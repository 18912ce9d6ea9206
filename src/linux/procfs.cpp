// Readers of per-process /proc files: process and thread status, syscall state, auxv.
#include "common/records_in.h"
#include "linux/procfs.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <type_traits>

#include <fmt/core.h>

#include "linux/proc_dir.h"
#include "linux/proc_files.h"
#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

// Closes a file descriptor on every exit path, including throws.
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

uint64_t ticks_to_ns(uint64_t ticks) {
  static const uint64_t hz = [] {
    long value = ::sysconf(_SC_CLK_TCK);
    return value > 0 ? static_cast<uint64_t>(value) : uint64_t{100};
  }();
  // Split so that large tick counts do not overflow the multiplication.
  return ticks / hz * 1'000'000'000ull + ticks % hz * 1'000'000'000ull / hz;
}

// /proc/PID/stat and /proc/PID/task/TID/stat. comm sits in parentheses and may itself hold
// spaces and ')', so the fixed fields are taken after the LAST ')'.
struct StatLine {
  std::string_view comm;
  // A fixed array, not a vector: the capture reads these without the heap. The kernel prints
  // 50 fields after comm today; more than 64 are ignored.
  std::array<std::string_view, 64> fields{};  // fields[0] is the state (field 3 in proc(5))
  size_t count = 0;

  // proc(5) numbers fields from 1; pid and comm are 1 and 2.
  std::string_view field(size_t number) const {
    if (number < 3 || number - 3 >= count) return {};
    return fields[number - 3];
  }
  uint64_t u64(size_t number) const { return text::parse_u64(field(number)).value_or(0); }
  int64_t i64(size_t number) const { return text::parse_i64(field(number)).value_or(0); }
};

StatLine parse_stat_line(std::string_view line, std::string_view path) {
  size_t open = line.find('(');
  size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    throw Error(Errc::corrupt_input, fmt::format("{}: no '(comm)' field", path));
  }
  StatLine stat;
  stat.comm = line.substr(open + 1, close - open - 1);
  std::string_view rest = line.substr(close + 1);
  while (stat.count < stat.fields.size()) {
    std::string_view token = text::next_token(rest);
    if (token.empty()) break;
    stat.fields[stat.count++] = token;
  }
  // starttime (field 22) is the last one every caller needs; older kernels have it too.
  if (stat.count < 20) {
    throw Error(Errc::corrupt_input, fmt::format("{}: only {} fields", path, stat.count));
  }
  return stat;
}

uint64_t first_64_cpus(const cpu_set_t& set) {
  uint64_t mask = 0;
  for (int cpu = 0; cpu < 64; ++cpu) {
    if (CPU_ISSET(cpu, &set)) mask |= uint64_t{1} << cpu;
  }
  return mask;
}

std::string_view strip_newline(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// A one-line file (stat, comm) into a stack buffer; throws the Error for `path` on failure.
// 4 KiB holds any stat line: comm is at most 64 bytes, and 52 numbers at most 21 digits each.
struct SmallFile {
  char bytes[4096];
  size_t length = 0;
  std::string_view text() const { return {bytes, length}; }
};
void read_small(const ProcPath& path, SmallFile& file) {
  if (int err = read_file(path.c_str(), file.bytes, sizeof file.bytes, file.length); err != 0) {
    throw error_for_path(std::string(path.view()), err);
  }
}

}  // namespace

uint64_t now_unix_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

Error error_for_path(const std::string& path, int err) {
  const char* reason = std::strerror(err);
  switch (err) {
    case ENOENT:
    case ESRCH:
      return Error(Errc::no_such_process,
                   fmt::format("{}: {} (the process or thread does not exist)", path, reason), err);
    case EACCES:
    case EPERM:
      return Error(Errc::permission_denied,
                   fmt::format("{}: {} (run as the target's user or with CAP_SYS_PTRACE)", path,
                               reason),
                   err);
    default:
      return Error(errc_from_errno(err), fmt::format("{}: {}", path, reason), err);
  }
}

int try_read_text_file(const std::string& path, std::string& out) {
  out.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  FdCloser closer{fd};
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buffer, static_cast<size_t>(n));
  }
}

std::string read_text_file(const std::string& path) {
  std::string text;
  if (int err = try_read_text_file(path, text); err != 0) throw error_for_path(path, err);
  return text;
}

uint64_t boot_time_unix_ns() {
  // btime only changes when the clock is stepped; one read per process keeps start times of
  // different threads comparable.
  static std::once_flag once;
  static uint64_t boot_ns = 0;
  std::call_once(once, [] {
    // Streamed through a stack buffer: /proc/stat grows with the CPU and interrupt count, and
    // the first capture of a kCreateUseVmAllocations user may come here.
    int fd = ::open("/proc/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw error_for_path("/proc/stat", errno);
    FdCloser closer{fd};
    char buffer[8192];
    size_t kept = 0;  // the start of an unfinished line, moved to the buffer's front
    bool skipping = false;  // inside a line longer than the buffer (the intr line): not btime
    for (;;) {
      ssize_t n = ::read(fd, buffer + kept, sizeof buffer - kept);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::string_view text(buffer, kept + static_cast<size_t>(n));
      size_t newline;
      while ((newline = text.find('\n')) != std::string_view::npos) {
        std::string_view line = text.substr(0, newline);
        text.remove_prefix(newline + 1);
        if (skipping) {
          skipping = false;
          continue;
        }
        if (text::next_token(line) != "btime") continue;
        if (auto seconds = text::parse_u64(text::next_token(line))) {
          boot_ns = *seconds * 1'000'000'000ull;
          return;
        }
      }
      if (text.size() == sizeof buffer) {
        skipping = true;
        kept = 0;
      } else {
        std::memmove(buffer, text.data(), text.size());
        kept = text.size();
      }
    }
    throw Error(Errc::corrupt_input, "/proc/stat: no btime line");
  });
  return boot_ns;
}

ProcessInfo read_process_info(pid_t pid) {
  return read_process_info(pid, std::pmr::get_default_resource(), std::pmr::get_default_resource());
}

ProcessInfo read_process_info(pid_t pid, std::pmr::memory_resource* out, std::pmr::memory_resource* scratch) {
  ProcessInfo info = process_info_in(out);
  info.pid = pid;

  SmallFile stat_file;
  ProcPath stat_path(pid, "stat");
  read_small(stat_path, stat_file);
  StatLine stat = parse_stat_line(stat_file.text(), stat_path.view());
  info.parent_pid = static_cast<pid_t>(stat.i64(4));
  info.page_fault_count = stat.u64(10) + stat.u64(12);
  info.user_time_ns = ticks_to_ns(stat.u64(14));
  info.kernel_time_ns = ticks_to_ns(stat.u64(15));
  info.priority = static_cast<int>(stat.i64(18));
  info.nice = static_cast<int>(stat.i64(19));
  info.create_time_unix_ns = boot_time_unix_ns() + ticks_to_ns(stat.u64(22));

  std::pmr::string status(scratch);
  ProcPath status_path(pid, "status");
  if (int err = read_file(status_path.c_str(), status); err != 0) {
    throw error_for_path(std::string(status_path.view()), err);
  }
  auto kb = [&](std::string_view key) -> uint64_t {
    auto value = text::find_field(status, key);
    return value ? text::parse_kb_as_bytes(*value).value_or(0) : 0;
  };
  // Kernel threads have no Vm* lines; they stay 0.
  info.peak_virtual_size = kb("VmPeak");
  info.virtual_size = kb("VmSize");
  info.peak_working_set_size = kb("VmHWM");
  info.working_set_size = kb("VmRSS");
  info.pagefile_usage = kb("VmSwap");
  info.private_usage = kb("RssAnon") + info.pagefile_usage;
  if (auto threads = text::find_field(status, "Threads")) {
    info.thread_count = static_cast<uint32_t>(text::parse_u64(*threads).value_or(0));
  }
  // Uid/Gid list real, effective, saved, fs ids; the real id is the owner a user expects.
  if (auto uid = text::find_field(status, "Uid")) {
    std::string_view rest = *uid;
    info.uid = static_cast<uid_t>(text::parse_u64(text::next_token(rest)).value_or(0));
  }
  if (auto gid = text::find_field(status, "Gid")) {
    std::string_view rest = *gid;
    info.gid = static_cast<gid_t>(text::parse_u64(text::next_token(rest)).value_or(0));
  }

  // exe and cmdline are missing for kernel threads and zombies; that is not an error.
  read_link(ProcPath(pid, "exe").c_str(), info.image_path);
  if (read_file(ProcPath(pid, "cmdline").c_str(), info.command_line) == 0) {
    while (!info.command_line.empty() && info.command_line.back() == '\0') info.command_line.pop_back();
    std::replace(info.command_line.begin(), info.command_line.end(), '\0', ' ');
  }
  SmallFile comm;
  if (read_file(ProcPath(pid, "comm").c_str(), comm.bytes, sizeof comm.bytes, comm.length) == 0) {
    info.name.assign(strip_newline(comm.text()));
  } else {
    info.name.assign(stat.comm);
  }

  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(pid, sizeof set, &set) == 0) info.affinity_mask = first_64_cpus(set);
  return info;
}

std::vector<pid_t> list_threads(pid_t pid) {
  std::pmr::vector<pid_t> tids;
  if (int err = list_threads(pid, tids); err != 0) throw error_for_path(std::string(ProcPath(pid, "task").view()), err);
  return std::vector<pid_t>(tids.begin(), tids.end());
}

int list_threads(pid_t pid, std::pmr::vector<pid_t>& out) {
  static_assert(std::is_same_v<pid_t, int>);
  char path[48];
  std::snprintf(path, sizeof path, "/proc/%d/task", static_cast<int>(pid));
  int err = list_numeric_entries(path, out);
  // Sorted, so a tid 0 (never listed by the kernel) could only be first.
  if (!out.empty() && out.front() == 0) out.erase(out.begin());
  return err;
}

TaskStat read_task_stat(pid_t pid, pid_t tid) {
  ProcPath path(pid, tid, "stat");
  SmallFile file;
  read_small(path, file);
  StatLine stat = parse_stat_line(file.text(), path.view());
  TaskStat task;
  std::string_view state = stat.field(3);
  task.state = state.empty() ? '?' : state.front();
  task.user_time_ns = ticks_to_ns(stat.u64(14));
  task.kernel_time_ns = ticks_to_ns(stat.u64(15));
  task.priority = static_cast<int>(stat.i64(18));
  task.nice = static_cast<int>(stat.i64(19));
  task.start_time_unix_ns = boot_time_unix_ns() + ticks_to_ns(stat.u64(22));
  if (auto cpu = text::parse_i64(stat.field(39))) task.processor = static_cast<int>(*cpu);
  return task;
}

bool process_gone(pid_t pid) noexcept {
  ProcPath path(pid, "stat");
  SmallFile file;
  if (read_file(path.c_str(), file.bytes, sizeof file.bytes, file.length) != 0) return true;
  std::string_view text = file.text();
  auto close = text.rfind(')');
  // "pid (comm) S ...": the state follows the last ')'.
  return close != std::string_view::npos && close + 2 < text.size() && (text[close + 2] == 'Z' || text[close + 2] == 'X');
}

bool same_memory_marks(pid_t a, pid_t b) noexcept {
  // startcode, endcode, startstack (26-28) and start_data .. env_end (45-51): where the kernel
  // put the program, its stack and its arguments. A new program (execve) moves them all.
  auto marks = [](pid_t pid, std::array<uint64_t, 10>& out) {
    try {
      ProcPath path(pid, "stat");
      SmallFile file;
      if (read_file(path.c_str(), file.bytes, sizeof file.bytes, file.length) != 0) return false;
      StatLine stat = parse_stat_line(file.text(), path.view());
      if (stat.count + 2 < 51) return false;
      size_t k = 0;
      for (size_t field : {26, 27, 28, 45, 46, 47, 48, 49, 50, 51}) out[k++] = stat.u64(field);
      return out[2] != 0;  // hidden (no right to trace it) reads as 0
    } catch (...) {
      return false;
    }
  };
  std::array<uint64_t, 10> ma{}, mb{};
  return marks(a, ma) && marks(b, mb) && ma == mb;
}

pid_t read_parent_pid(pid_t pid) noexcept {
  try {
    ProcPath path(pid, "stat");
    SmallFile file;
    if (read_file(path.c_str(), file.bytes, sizeof file.bytes, file.length) != 0) return 0;
    return static_cast<pid_t>(parse_stat_line(file.text(), path.view()).i64(4));
  } catch (...) {
    return 0;  // a line that does not parse
  }
}

NamespacePids read_namespace_pids(pid_t pid) noexcept {
  NamespacePids out;
  alignas(std::max_align_t) char room[16 << 10];
  std::pmr::monotonic_buffer_resource memory(room, sizeof room);
  std::pmr::string status(&memory);
  if (read_file(ProcPath(pid, "status").c_str(), status) != 0) return out;
  auto value = text::find_field(status, "NSpid");
  if (!value) return out;
  std::string_view rest = *value;
  for (std::string_view token = text::next_token(rest); !token.empty(); token = text::next_token(rest)) {
    auto number = text::parse_u64(token);
    if (!number) return NamespacePids{};
    ++out.levels;
    out.innermost = static_cast<pid_t>(*number);
  }
  return out;
}

std::string read_thread_name(pid_t pid, pid_t tid) {
  std::pmr::string name;
  if (int err = read_thread_name(pid, tid, name); err != 0) {
    throw error_for_path(std::string(ProcPath(pid, tid, "comm").view()), err);
  }
  return std::string(name);
}

int read_thread_name(pid_t pid, pid_t tid, std::pmr::string& out) noexcept {
  SmallFile comm;
  if (int err = read_file(ProcPath(pid, tid, "comm").c_str(), comm.bytes, sizeof comm.bytes, comm.length); err != 0) {
    return err;
  }
  try {
    out.assign(strip_newline(comm.text()));
  } catch (...) {
    return ENOMEM;
  }
  return 0;
}

SyscallState parse_syscall(std::string_view text_in) {
  SyscallState state;
  std::string_view rest = text::trim(text_in);
  std::string_view first = text::next_token(rest);
  // "running": the task was runnable, so the kernel could not sample it; it is in user space
  // or about to be, either way not blocked in a syscall.
  if (first == "running") {
    state.number = -1;
    return state;
  }
  auto number = text::parse_i64(first);
  if (!number) return state;  // unknown format: leave -2
  // A fixed array, not a vector: this runs inside the pause of a kCreateUseVmAllocations capture.
  std::array<uint64_t, 8> values{};
  size_t count = 0;
  while (count < values.size()) {
    std::string_view token = text::next_token(rest);
    if (token.empty()) break;
    auto value = text::parse_u64(token, 16);
    if (!value) return state;
    values[count++] = *value;
  }
  // Blocked outside a syscall the kernel prints "-1 sp pc"; inside one "nr a1..a6 sp pc".
  if (*number < 0 && count == 2) {
    state.number = -1;
    state.stack_pointer = values[0];
    state.instruction_pointer = values[1];
  } else if (*number >= 0 && count == 8) {
    state.number = static_cast<long>(*number);
    std::copy(values.begin(), values.begin() + 6, state.args.begin());
    state.stack_pointer = values[6];
    state.instruction_pointer = values[7];
  }
  return state;
}

SyscallState read_syscall(pid_t pid, pid_t tid) {
  return parse_syscall(read_text_file(fmt::format("/proc/{}/task/{}/syscall", pid, tid)));
}

int read_syscall(pid_t pid, pid_t tid, SyscallState& out) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", static_cast<int>(pid), static_cast<int>(tid));
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char text[256];  // "nr" + eight hex words: under 200 bytes
  ssize_t n = ::read(fd, text, sizeof text);
  int err = n < 0 ? errno : 0;
  ::close(fd);
  if (err != 0) return err;
  out = parse_syscall(std::string_view(text, static_cast<size_t>(n)));
  return 0;
}

uint64_t read_affinity(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(tid, sizeof set, &set) != 0) {
    int err = errno;
    throw error_for_path(fmt::format("sched_getaffinity({})", tid), err);
  }
  return first_64_cpus(set);
}

namespace {

// Calls visit(type, value) for each auxv pair up to AT_NULL, until it returns false. Visiting in
// place lets auxv_value, which the capture calls, work without allocating.
template <class Visit>
void for_each_auxv(std::string_view bytes, Visit visit) {
  constexpr size_t kPair = 2 * sizeof(uint64_t);
  for (size_t offset = 0; offset + kPair <= bytes.size(); offset += kPair) {
    uint64_t type = 0, value = 0;
    std::memcpy(&type, bytes.data() + offset, sizeof type);
    std::memcpy(&value, bytes.data() + offset + sizeof type, sizeof value);
    if (type == 0 || !visit(type, value)) break;  // AT_NULL ends the vector
  }
}

}  // namespace

std::vector<std::pair<uint64_t, uint64_t>> parse_auxv(std::string_view bytes) {
  std::vector<std::pair<uint64_t, uint64_t>> entries;
  for_each_auxv(bytes, [&](uint64_t type, uint64_t value) {
    entries.emplace_back(type, value);
    return true;
  });
  return entries;
}

std::vector<std::pair<uint64_t, uint64_t>> read_auxv(pid_t pid) {
  return parse_auxv(read_text_file(fmt::format("/proc/{}/auxv", pid)));
}

uint64_t auxv_value(std::string_view bytes, uint64_t type) {
  uint64_t found = 0;
  for_each_auxv(bytes, [&](uint64_t t, uint64_t value) {
    if (t == type) found = value;
    return t != type;
  });
  return found;
}

}  // namespace snapdump::os
