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
      "Write dump IN in the other format. A minidump (snapdump's, Breakpad's, Crashpad's, LLDB's) "
      "becomes an ELF core file, as Breakpad's minidump-2-core makes one: gdb EXE OUT, lldb -c OUT "
      "and eu-stack --core OUT read it with the program's binaries. The core holds the threads with "
      "their registers (general and FXSAVE), the signal of the minidump's Exception stream, an "
      "NT_FILE note of the file mappings (from the LinuxMaps stream, else from the memory info and "
      "the modules) and exactly the memory the minidump holds: the rest of each mapping is in its "
      "PT_LOAD without bytes, never zeros passed off as memory. What the minidump does not carry "
      "(signal masks, AVX state, thread times) is listed on standard error. gdb finds the shared "
      "libraries through the dynamic linker's list in the process's memory: a minidump with full "
      "memory (snapdump dump --full) holds it; for a smaller one snapdump rebuilds the list from "
      "the LinuxDsoDebug stream (snapdump and Breakpad write it) in a page range the process did "
      "not use, and says so, so that gdb still names every frame.\n\n"
      "The output follows `snapdump dump`'s rules: a new file appears only when whole, an existing "
      "one is kept unless --force, - writes to standard output, files are created mode 0600.");
  cmd->add_option("IN", a.input, "the dump to read: a minidump")->required();
  cmd->add_option("-o,--output", a.output, "where the core goes: a path (default IN with .core in place of its extension), or - for standard output");
  cmd->add_flag("--force", a.force, "replace the regular file -o names if it exists (atomically, once the new file is whole)");
}

namespace {

std::string default_output(const std::string& input) {
  size_t slash = input.rfind('/');
  size_t dot = input.rfind('.');
  std::string stem = dot != std::string::npos && (slash == std::string::npos || dot > slash) ? input.substr(0, dot) : input;
  return stem + ".core";
}

}  // namespace

int run_convert(const ConvertArgs& a) {
  char magic[4] = {};
  {
    std::ifstream in(a.input, std::ios::binary);
    if (!in) throw Error(Errc::invalid_argument, fmt::format("cannot open {}: {}", a.input, std::strerror(errno)), errno);
    in.read(magic, sizeof magic);
  }
  if (is_elf_core(a.input)) {
    throw Error(Errc::not_supported, fmt::format("{} is an ELF core: converting a core into a minidump is not implemented yet", a.input));
  }
  if (std::memcmp(magic, "\x7f" "ELF", 4) == 0) {
    throw Error(Errc::invalid_argument,
                fmt::format("{} is an ELF file but not a core (a program or a library?): convert takes a minidump", a.input));
  }
  if (std::memcmp(magic, "MDMP", 4) != 0) {
    throw Error(Errc::invalid_argument, fmt::format("{} is neither a minidump (MDMP) nor an ELF core", a.input));
  }
  reader::Minidump dump = reader::Minidump::open(a.input);
  std::string path = a.output.empty() ? default_output(a.input) : a.output;
  signal(SIGPIPE, SIG_IGN);  // a reader that goes away is an error with a message
  DumpOutput output = path == "-" ? DumpOutput::to_fd(STDOUT_FILENO, "standard output")
                                  : DumpOutput::to_path(path, OutputOptions{a.force});
  CoreResult result = write_core(dump, output);
  std::FILE* report = path == "-" ? stderr : stdout;
  fmt::print(report, "{}: {:.1f} MiB ELF core, {} threads, {} segments, {:.1f} MiB of memory\n", escape_text(output.name()),
             result.bytes / 1048576.0, result.threads, result.segments, result.memory_bytes / 1048576.0);
  for (const std::string& gap : result.gaps) fmt::print(stderr, "snapdump: not in {}: {}\n", escape_text(a.input), gap);
  if (!dump.problems().empty()) {
    fmt::print(stderr, "snapdump: {} has {} problem{} (`snapdump inspect` lists them); the core holds what could be read\n",
               escape_text(a.input), dump.problems().size(), dump.problems().size() == 1 ? "" : "s");
  }
  return 0;
}

}  // namespace snapdump::cli
