#include "convert_command.h"

#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "file_kind.h"
#include "name_escape.h"
#include "snapdump/core.h"
#include "snapdump/reader.h"

namespace snapdump::cli {

void add_convert_command(CLI::App& app, ConvertArgs& a) {
  auto* cmd = app.add_subcommand(
      "convert",
      "Write dump IN in the other format.\n\n"
      "A minidump (snapdump's, Breakpad's, Crashpad's, LLDB's) becomes an ELF core file, as Breakpad's "
      "minidump-2-core makes one: gdb EXE OUT, lldb -c OUT and eu-stack --core OUT read it with the "
      "program's binaries. The core holds the threads with their registers (general and FXSAVE), the "
      "signal of the minidump's Exception stream, an NT_FILE note of the file mappings (from the "
      "LinuxMaps stream, else from the memory info and the modules) and exactly the memory the "
      "minidump holds: the rest of each mapping is in its PT_LOAD without bytes, never zeros passed "
      "off as memory. gdb finds the shared libraries through the dynamic linker's list in the "
      "process's memory: a minidump with full memory (snapdump dump --full) holds it; for a smaller "
      "one snapdump rebuilds the list from the LinuxDsoDebug stream (snapdump and Breakpad write it) "
      "in a page range the process did not use, and says so, so that gdb still names every frame.\n\n"
      "An ELF core (the kernel's, gdb's gcore's, snapdump's) becomes a minidump that LLDB, Breakpad's "
      "minidump_stackwalk and snapdump inspect read: the threads with their registers (with the AVX "
      "state where the core has NT_X86_XSTATE), the signal as the Exception stream, the modules "
      "found from NT_FILE with their build-ids, the PT_LOADs as the memory map (MemoryInfoList and "
      "LinuxMaps), each thread's stack in the MemoryList and every byte of memory the core holds in "
      "the Memory64List. A core cut short or damaged is converted as far as it can be read.\n\n"
      "Either way, what IN does not carry (signal masks, AVX state, thread names, the CPU and kernel "
      "the process ran on) is listed on standard error, never made up. The output follows `snapdump "
      "dump`'s rules: a new file appears only when whole, an existing one is kept unless --force, - "
      "writes to standard output, files are created mode 0600.");
  cmd->add_option("IN", a.input, "the dump to read: a minidump or an ELF core")->required();
  cmd->add_option("-o,--output", a.output,
                  "where the result goes: a path (default IN with .core, or .dmp for a core, in place of its "
                  "extension), or - for standard output");
  cmd->add_flag("--force", a.force, "replace the regular file -o names if it exists (atomically, once the new file is whole)");
}

namespace {

std::string default_output(const std::string& input, const char* extension) {
  size_t slash = input.rfind('/');
  size_t dot = input.rfind('.');
  std::string stem = dot != std::string::npos && (slash == std::string::npos || dot > slash) ? input.substr(0, dot) : input;
  return stem + extension;
}

DumpOutput output_for(const std::string& path, bool force) {
  signal(SIGPIPE, SIG_IGN);  // a reader that goes away is an error with a message
  return path == "-" ? DumpOutput::to_fd(STDOUT_FILENO, "standard output") : DumpOutput::to_path(path, OutputOptions{force});
}

void print_gaps(const std::string& input, const std::vector<std::string>& gaps) {
  for (const std::string& gap : gaps) fmt::print(stderr, "snapdump: not in {}: {}\n", escape_text(input), gap);
}

int core_to_minidump(const ConvertArgs& a) {
  std::string path = a.output.empty() ? default_output(a.input, ".dmp") : a.output;
  DumpOutput output = output_for(path, a.force);
  MinidumpFromCoreResult result = write_minidump_from_core(a.input, output);
  std::FILE* report = path == "-" ? stderr : stdout;
  fmt::print(report, "{}: {:.1f} MiB minidump, {} threads, {} modules, {:.1f} MiB of memory in {} ranges\n",
             escape_text(output.name()), result.bytes / 1048576.0, result.threads, result.modules,
             result.memory_bytes / 1048576.0, result.ranges);
  print_gaps(a.input, result.gaps);
  if (!result.problems.empty()) {
    fmt::print(stderr, "snapdump: {} is damaged ({} problem{}); the minidump holds what could be read:\n", escape_text(a.input),
               result.problems.size(), result.problems.size() == 1 ? "" : "s");
    for (const std::string& p : result.problems) fmt::print(stderr, "  {}\n", escape_text(p));
  }
  return 0;
}

}  // namespace

int run_convert(const ConvertArgs& a) {
  char magic[4] = {};
  {
    std::ifstream in(a.input, std::ios::binary);
    if (!in) throw Error(Errc::invalid_argument, fmt::format("cannot open {}: {}", a.input, std::strerror(errno)), errno);
    in.read(magic, sizeof magic);
  }
  if (is_elf_core(a.input)) return core_to_minidump(a);
  if (std::memcmp(magic, "\x7f" "ELF", 4) == 0) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is an ELF file but not a core (a program or a library?): convert takes a minidump or an ELF core", a.input));
  }
  if (std::memcmp(magic, "MDMP", 4) != 0) {
    throw Error(Errc::invalid_argument, fmt::format("{} is neither a minidump (MDMP) nor an ELF core", a.input));
  }
  reader::Minidump dump = reader::Minidump::open(a.input);
  std::string path = a.output.empty() ? default_output(a.input, ".core") : a.output;
  DumpOutput output = output_for(path, a.force);
  CoreResult result = write_core(dump, output);
  std::FILE* report = path == "-" ? stderr : stdout;
  fmt::print(report, "{}: {:.1f} MiB ELF core, {} threads, {} segments, {:.1f} MiB of memory\n", escape_text(output.name()),
             result.bytes / 1048576.0, result.threads, result.segments, result.memory_bytes / 1048576.0);
  print_gaps(a.input, result.gaps);
  if (!dump.problems().empty()) {
    fmt::print(stderr, "snapdump: {} has {} problem{} (`snapdump inspect` lists them); the core holds what could be read\n",
               escape_text(a.input), dump.problems().size(), dump.problems().size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace snapdump::cli
