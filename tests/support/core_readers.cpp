#include "support/core_readers.h"

#include <elf.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <regex>
#include <sstream>

namespace snapdump::testing {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
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
  static const std::regex thread_header(R"(^Thread \d+ \(.*LWP (\d+)\))");
  static const std::regex frame(R"(^#\d+\s+(?:0x[0-9a-f]+ in )?(\S+) )");
  static const std::regex current(R"(^\*\s+\d+\s+.*LWP (\d+)\))");
  static const std::regex terminated(R"(^Program terminated with signal (SIG\w+))");
  pid_t in = 0;
  for (const std::string& line : lines_of(r.run.out)) {
    std::smatch m;
    if (std::regex_search(line, m, thread_header)) {
      in = static_cast<pid_t>(std::stol(m[1]));
      r.threads[in];
    } else if (std::regex_search(line, m, current)) {
      r.current_thread = static_cast<pid_t>(std::stol(m[1]));
    } else if (std::regex_search(line, m, terminated)) {
      r.terminated_by = m[1];
    } else if (in != 0 && std::regex_search(line, m, frame)) {
      r.threads[in].push_back(m[1]);
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

Backtraces eu_stack(const std::string& exe, const std::string& core, CommandResult* run) {
  CommandResult r = run_command({tool_path("eu-stack"), "--core", core, "-e", exe}, 120000);
  static const std::regex tid(R"(^TID (\d+):)");
  static const std::regex frame(R"(^#\d+\s+0x[0-9a-f]+\s*(\S*))");
  Backtraces out;
  pid_t in = 0;
  for (const std::string& line : lines_of(r.out)) {
    std::smatch m;
    if (std::regex_search(line, m, tid)) {
      in = static_cast<pid_t>(std::stol(m[1]));
      out[in];
    } else if (in != 0 && std::regex_search(line, m, frame)) {
      out[in].push_back(m[1].str().empty() ? "??" : m[1].str());
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
  static const std::regex line_re(R"(^0x([0-9a-f]+)\+0x[0-9a-f]+ ([0-9a-f]*)(?:@0x[0-9a-f]+)?\s+(\S+))");
  std::map<uint64_t, std::string> out;
  for (const std::string& line : lines_of(r.out)) {
    std::smatch m;
    if (!std::regex_search(line, m, line_re)) continue;
    std::string file = m[3];
    if (file == "-" || file == "." || file.find("[vdso]") != std::string::npos) continue;
    out[std::stoull(m[1], nullptr, 16)] = m[2];
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
