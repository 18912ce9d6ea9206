#include "support/core_readers.h"

#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <cstring>
#include <sstream>

namespace snapdump::testing {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The words of a line, split at spaces and tabs.
std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool all_of(const std::string& s, const char* set) { return !s.empty() && s.find_first_not_of(set) == std::string::npos; }
bool decimal(const std::string& s) { return all_of(s, "0123456789"); }
bool hex_address(const std::string& s) { return s.size() > 2 && s.rfind("0x", 0) == 0 && all_of(s.substr(2), "0123456789abcdef"); }

// The digits after "LWP " up to its ")", or 0. (No std::regex in the tests: GCC 12 warns inside
// it under the sanitizers, and warnings are errors.)
pid_t lwp_of(const std::string& line) {
  size_t at = line.find("LWP ");
  if (at == std::string::npos) return 0;
  size_t end = line.find(')', at);
  std::string digits = line.substr(at + 4, end == std::string::npos ? std::string::npos : end - at - 4);
  return decimal(digits) ? static_cast<pid_t>(std::stol(digits)) : 0;
}

// "#N ..." frame lines: the words after the frame number, or none.
std::vector<std::string> frame_words(const std::string& line) {
  std::vector<std::string> w = words(line);
  if (w.empty() || w[0].size() < 2 || w[0][0] != '#' || !decimal(w[0].substr(1))) return {};
  w.erase(w.begin());
  return w;
}

bool pread_all(int fd, void* out, size_t size, uint64_t offset) {
  return pread(fd, out, size, static_cast<off_t>(offset)) == static_cast<ssize_t>(size);
}

}  // namespace

std::string tool_path(const std::string& name) {
  for (const char* dir : {"/usr/bin/", "/bin/", "/usr/local/bin/"}) {
    std::string path = dir + name;
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

GdbResult gdb_backtraces(const std::string& exe, const std::string& core) {
  GdbResult r;
  r.run = run_command({tool_path("gdb"), "-nx", "-batch", "-ex", "set debuginfod enabled off", "-ex", "set width 0",
                       "-ex", "info threads", "-ex", "thread apply all bt", exe, core},
                      120000);
  pid_t in = 0;
  for (const std::string& line : lines_of(r.run.out)) {
    std::vector<std::string> w = words(line);
    if (w.size() >= 2 && w[0] == "Thread" && decimal(w[1]) && lwp_of(line) != 0) {
      in = lwp_of(line);
      r.threads[in];
    } else if (w.size() >= 2 && w[0] == "*" && decimal(w[1]) && lwp_of(line) != 0) {
      r.current_thread = lwp_of(line);
    } else if (line.rfind("Program terminated with signal ", 0) == 0) {
      std::string name = w.size() > 4 ? w[4] : "";
      while (!name.empty() && !(std::isalnum(static_cast<unsigned char>(name.back())) || name.back() == '_')) name.pop_back();
      if (name.rfind("SIG", 0) == 0) r.terminated_by = name;
    } else if (in != 0) {
      // "#3  0x00007f... in park_in_futex (...) at f.cpp:12" or "#0  park_in_futex (...)"
      std::vector<std::string> f = frame_words(line);
      if (f.size() >= 3 && hex_address(f[0]) && f[1] == "in") {
        r.threads[in].push_back(f[2]);
      } else if (f.size() >= 2 && !hex_address(f[0])) {
        r.threads[in].push_back(f[0]);
      }
    }
  }
  return r;
}

std::set<pid_t> tids_of(const Backtraces& threads) {
  std::set<pid_t> out;
  for (const auto& [tid, frames] : threads) out.insert(tid);
  return out;
}

std::set<pid_t> report_tids(const TargetProcess& target) {
  std::set<pid_t> out;
  for (const auto& t : target.report()["threads"]) out.insert(t["tid"].get<pid_t>());
  return out;
}

std::string run_gcore(pid_t pid, const std::string& prefix) {
  CommandResult r = run_command({tool_path("gcore"), "-o", prefix, std::to_string(pid)}, 180000);
  if (r.exit_code != 0) return "";
  return prefix + "." + std::to_string(pid);
}

std::unique_ptr<TargetProcess> spawn_for_kernel_core(const std::string& dir, const std::vector<std::string>& args) {
  std::ifstream pattern_file("/proc/sys/kernel/core_pattern");
  std::string pattern;
  std::getline(pattern_file, pattern);
  if (pattern != "core") {
    throw std::runtime_error("/proc/sys/kernel/core_pattern is '" + pattern +
                             "': the kernel's core tests need 'core' (a file in the process's directory)");
  }
  std::vector<std::string> argv = {"/usr/bin/env", "-C", dir, "/usr/bin/prlimit", "--core=unlimited", target_path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return TargetProcess::spawn_program(argv);
}

std::string kernel_core(TargetProcess& target, const std::string& dir) {
  if (::kill(target.pid(), SIGSEGV) != 0) throw std::runtime_error("kill: " + std::string(std::strerror(errno)));
  int status = target.wait_exit(60000);
  if (status == -1 || !WIFSIGNALED(status) || !WCOREDUMP(status)) {
    throw std::runtime_error("the target did not dump core (wait status " + std::to_string(status) + ")");
  }
  std::string path = dir + "/core";
  if (::access(path.c_str(), R_OK) != 0) throw std::runtime_error("the kernel's core is not at " + path);
  return path;
}

Backtraces eu_stack(const std::string& exe, const std::string& core, CommandResult* run) {
  CommandResult r = run_command({tool_path("eu-stack"), "--core", core, "-e", exe}, 120000);
  Backtraces out;
  pid_t in = 0;
  for (const std::string& line : lines_of(r.out)) {
    std::vector<std::string> w = words(line);
    if (w.size() >= 2 && w[0] == "TID" && w[1].size() > 1 && w[1].back() == ':' &&
        decimal(w[1].substr(0, w[1].size() - 1))) {
      in = static_cast<pid_t>(std::stol(w[1]));
      out[in];
    } else if (in != 0) {
      // "#0  0x00007f1c5e2a4f16 park_in_futex" (a frame without a name has only its address)
      std::vector<std::string> f = frame_words(line);
      if (!f.empty() && hex_address(f[0])) out[in].push_back(f.size() > 1 ? f[1] : "??");
    }
  }
  if (run) *run = std::move(r);
  return out;
}

std::map<uint64_t, std::string> eu_unstrip_build_ids(const std::vector<std::string>& source_args, CommandResult* run) {
  std::vector<std::string> argv{tool_path("eu-unstrip"), "-n"};
  argv.insert(argv.end(), source_args.begin(), source_args.end());
  CommandResult r = run_command(argv, 120000);
  // "0x7f1c5e1d1000+0x1b7000 a3b1...@0x7f1c5e1d1380 /usr/lib/x86_64-linux-gnu/libc.so.6 - libc.so.6"
  std::map<uint64_t, std::string> out;
  for (const std::string& line : lines_of(r.out)) {
    std::vector<std::string> w = words(line);
    if (w.size() < 3) continue;
    size_t plus = w[0].find('+');
    if (plus == std::string::npos || !hex_address(w[0].substr(0, plus)) || !hex_address(w[0].substr(plus + 1))) continue;
    std::string id = w[1].substr(0, w[1].find('@'));
    if (!id.empty() && !all_of(id, "0123456789abcdef")) continue;  // "-": no build-id
    const std::string& file = w[2];
    if (file == "-" || file == "." || file.find("[vdso]") != std::string::npos) continue;
    out[std::stoull(w[0].substr(2, plus - 2), nullptr, 16)] = id;
  }
  if (run) *run = std::move(r);
  return out;
}

std::vector<ElfSegment> elf_segments(const std::string& path) {
  std::vector<ElfSegment> out;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  Elf64_Ehdr eh{};
  if (pread_all(fd, &eh, sizeof eh, 0) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
    uint64_t count = eh.e_phnum;
    if (count == PN_XNUM) {
      Elf64_Shdr sh{};
      count = pread_all(fd, &sh, sizeof sh, eh.e_shoff) ? sh.sh_info : 0;
    }
    for (uint64_t i = 0; i < count; ++i) {
      Elf64_Phdr ph{};
      if (!pread_all(fd, &ph, sizeof ph, eh.e_phoff + i * sizeof ph)) break;
      out.push_back({ph.p_type, ph.p_flags, ph.p_offset, ph.p_vaddr, ph.p_filesz, ph.p_memsz});
    }
  }
  close(fd);
  return out;
}

std::optional<std::vector<uint8_t>> core_memory(const std::string& path, const std::vector<ElfSegment>& segments,
                                                uint64_t address, size_t size) {
  for (const ElfSegment& s : segments) {
    if (s.type != PT_LOAD || address < s.vaddr || address + size > s.vaddr + s.file_size) continue;
    std::vector<uint8_t> bytes(size);
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && pread_all(fd, bytes.data(), size, s.offset + (address - s.vaddr));
    if (fd >= 0) close(fd);
    if (ok) return bytes;
  }
  return std::nullopt;
}

}  // namespace snapdump::testing
