#include "support/external_readers.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <fcntl.h>
#include <map>
#include <poll.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef SNAPDUMP_SOURCE_DIR
#error "SNAPDUMP_SOURCE_DIR must name the repository root"
#endif

namespace snapdump::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Runs in the forked child: async-signal-safe calls only.
[[noreturn]] void exec_child(char* const* args, int null_fd, int out_fd, int err_fd) {
  ::setpgid(0, 0);
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execv(args[0], args);
  const char prefix[] = "run_command: cannot execute ";
  (void)!::write(STDERR_FILENO, prefix, sizeof prefix - 1);
  (void)!::write(STDERR_FILENO, args[0], std::strlen(args[0]));
  (void)!::write(STDERR_FILENO, "\n", 1);
  ::_exit(127);
}

std::string trim(const std::string& text) {
  std::size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return text.substr(begin, end - begin);
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Removes ANSI escape sequences (ESC [ ... final byte), in case colour slips through.
std::string strip_ansi(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      continue;
    }
    out += text[i];
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(strip_ansi(text));
  std::string line;
  while (std::getline(stream, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  for (;;) {
    std::size_t at = text.find(separator, start);
    fields.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return fields;
    start = at + 1;
  }
}

// "0x1f", "1f" with base 16, or decimal; 0 when it does not parse.
std::uint64_t parse_number(const std::string& text, int base) {
  std::string t = trim(text);
  if (t.empty()) return 0;
  errno = 0;
  char* end = nullptr;
  unsigned long long value = std::strtoull(t.c_str(), &end, base);
  if (errno != 0 || end == t.c_str()) return 0;
  return value;
}

std::string executable_or_empty(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0 ? path : std::string();
}

// Takes the function name from LLDB's function.name-with-args text, e.g.
// "(anonymous namespace)::read_line(buffer=\"\", line=\"\") at target_main.cpp:42:21" or
// "execute_command + 117" or "__GI___libc_read at read.c:26:10".
std::string function_name(const std::string& text) {
  std::string name;
  int parens = 0, angles = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (parens == 0 && angles == 0) {
      if (text.compare(i, 3, " + ") == 0 || text.compare(i, 4, " at ") == 0 ||
          text.compare(i, 2, " [") == 0)
        break;
      if (name.size() >= 8 && name.compare(name.size() - 8, 8, "operator") == 0) {
        // operator(), operator<<, operator new, ...: take the operator's symbol as it is.
        if (text.compare(i, 3, "()(") == 0) {
          name += "()";
          i += 2;
          continue;
        }
        while (i < text.size() && text[i] != '(') name += text[i++];
        continue;
      }
      if (c == '(' && !name.empty()) break;  // the argument list
    }
    if (c == '(') ++parens;
    else if (c == ')' && parens > 0) --parens;
    else if (c == '<') ++angles;
    else if (c == '>' && angles > 0) --angles;
    name += c;
    ++i;
  }
  return trim(name);
}

// The value of ", name = '...'" in an LLDB thread line, or "".
std::string thread_name_in(const std::string& line) {
  const std::string key = ", name = '";
  std::size_t at = line.find(key);
  if (at == std::string::npos) return {};
  at += key.size();
  // The name ends at the quote before the next ", " field (or the end of the line).
  std::size_t end = line.find("', ", at);
  if (end == std::string::npos) end = line.rfind('\'');
  if (end == std::string::npos || end < at) return {};
  return line.substr(at, end - at);
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& argv, int timeout_ms) {
  CommandResult result;
  if (argv.empty() || argv[0].empty()) {
    result.exit_code = 127;
    result.err = "run_command: no program given\n";
    return result;
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    result.exit_code = 127;
    result.err = std::string("run_command: ") + std::strerror(errno) + "\n";
    for (int fd : {null_fd, out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      if (fd >= 0) ::close(fd);
    return result;
  }
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(args.data(), null_fd, out_pipe[1], err_pipe[1]);
  const int fork_errno = errno;
  close_fd(null_fd);
  close_fd(out_pipe[1]);
  close_fd(err_pipe[1]);
  if (pid < 0) {
    close_fd(out_pipe[0]);
    close_fd(err_pipe[0]);
    result.exit_code = 127;
    result.err = std::string("run_command: fork: ") + std::strerror(fork_errno) + "\n";
    return result;
  }
  ::setpgid(pid, pid);  // also done by the child; whichever runs first wins, both agree

  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto kill_group = [&] {
    if (!result.timed_out) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::kill(pid, SIGKILL);
    }
  };
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&result.out, &result.err};
  // After a kill, drain for at most one more second (a grandchild that left the process
  // group could keep the pipes open forever).
  Clock::time_point drain_deadline = Clock::time_point::max();
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd polls[2];
    nfds_t count = 0;
    int which[2];
    for (int k = 0; k < 2; ++k)
      if (fds[k] >= 0) {
        polls[count] = {fds[k], POLLIN, 0};
        which[count++] = k;
      }
    int wait_ms = result.timed_out ? remaining_ms(drain_deadline) : remaining_ms(deadline);
    int ready = ::poll(polls, count, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      if (result.timed_out) break;
      kill_group();
      drain_deadline = Clock::now() + std::chrono::seconds(1);
      continue;
    }
    for (nfds_t j = 0; j < count; ++j) {
      if (polls[j].revents == 0) continue;
      int k = which[j];
      char buffer[65536];
      ssize_t n = ::read(fds[k], buffer, sizeof buffer);
      if (n > 0) sinks[k]->append(buffer, static_cast<std::size_t>(n));
      else if (n == 0 || (errno != EINTR && errno != EAGAIN)) close_fd(fds[k]);
    }
  }
  close_fd(fds[0]);
  close_fd(fds[1]);

  int status = 0;
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      status = -1;
      break;
    }
    if (!result.timed_out && remaining_ms(deadline) == 0) kill_group();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (status == -1) result.exit_code = -1;
  else if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) result.exit_code = 128 + WTERMSIG(status);
  return result;
}

std::string lldb_path() { return executable_or_empty("/usr/bin/lldb-16"); }

std::string minidump_stackwalk_path() {
  return executable_or_empty(SNAPDUMP_SOURCE_DIR "/node_modules/minidump/bin/linux-x64/minidump_stackwalk");
}

std::string minidump_dump_path() {
  return executable_or_empty(SNAPDUMP_SOURCE_DIR "/node_modules/minidump/bin/linux-x64/minidump_dump");
}

std::string dump_syms_path() {
  return executable_or_empty(SNAPDUMP_SOURCE_DIR "/node_modules/minidump/bin/linux-x64/dump_syms");
}

std::string write_breakpad_symbols(const std::string& binary, const std::string& store) {
  const std::string tool = dump_syms_path();
  if (tool.empty()) return "dump_syms is not installed (run scripts/setup.sh)";
  CommandResult run = run_command({tool, binary}, 300000);
  if (run.exit_code != 0 || run.timed_out)
    return "dump_syms " + binary + " failed (exit " + std::to_string(run.exit_code) + "): " + run.err;
  // "MODULE Linux x86_64 B231DA979449251FFF26A6126471221B0 libjvm.so"
  std::istringstream first(run.out.substr(0, run.out.find('\n')));
  std::string word, os, cpu, id, name;
  first >> word >> os >> cpu >> id >> name;
  if (word != "MODULE" || id.empty() || name.empty() || name.find('/') != std::string::npos)
    return "dump_syms " + binary + " wrote no MODULE line: " + run.out.substr(0, 200);
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::path(store) / name / id;
  std::filesystem::create_directories(dir, ec);
  if (ec) return "cannot create " + dir.string() + ": " + ec.message();
  std::ofstream out(dir / (name + ".sym"), std::ios::binary);
  out << run.out;
  out.close();
  if (!out) return "cannot write " + (dir / (name + ".sym")).string();
  return "";
}

CommandResult lldb_batch(const std::string& dump, const std::vector<std::string>& commands,
                         int timeout_ms, const std::string& executable) {
  const std::string lldb = lldb_path();
  if (lldb.empty()) return {127, "", "lldb_batch: /usr/bin/lldb-16 is not installed\n", false};
  std::vector<std::string> argv = {lldb, "--batch", "--no-lldbinit", "-O", "settings set use-color false"};
  if (!executable.empty()) argv.push_back(executable);
  argv.insert(argv.end(), {"-c", dump});
  for (const std::string& command : commands) {
    argv.push_back("-o");
    argv.push_back(command);
  }
  return run_command(argv, timeout_ms);
}

CommandResult lldb_save_minidump(int pid, const std::string& path, int timeout_ms) {
  const std::string lldb = lldb_path();
  if (lldb.empty()) return {127, "", "lldb_save_minidump: /usr/bin/lldb-16 is not installed\n", false};
  return run_command({lldb, "--batch", "--no-lldbinit", "-O", "settings set use-color false", "-p", std::to_string(pid),
                      "-o", "process save-core --plugin-name=minidump --style stack " + path, "-o", "process detach"},
                     timeout_ms);
}

LldbFrame parse_lldb_frame(const std::string& text) {
  LldbFrame frame;
  std::string rest = trim(text);
  if (starts_with(rest, "0x")) {
    std::size_t space = rest.find(' ');
    frame.pc = parse_number(rest.substr(0, space), 16);
    rest = space == std::string::npos ? std::string() : trim(rest.substr(space));
  }
  if (rest.empty()) return frame;
  std::size_t tick = rest.find('`');
  std::size_t space = rest.find(' ');
  if (tick != std::string::npos && (space == std::string::npos || tick < space)) {
    frame.module = rest.substr(0, tick);
    frame.function = function_name(rest.substr(tick + 1));
  } else {
    frame.module = rest.substr(0, space);  // "libfoo.so + 123": a module but no symbol
  }
  return frame;
}

std::vector<LldbThread> parse_lldb_backtraces(const std::string& lldb_output) {
  std::map<std::uint32_t, LldbThread> threads;
  LldbThread* current = nullptr;  // the thread whose `bt` frames are being read
  for (const std::string& raw_line : lines_of(lldb_output)) {
    std::string line = trim(raw_line);
    if (starts_with(line, "* ")) line = trim(line.substr(2));
    if (starts_with(line, "thread #")) {
      std::size_t digits_end = 8;
      while (digits_end < line.size() && std::isdigit(static_cast<unsigned char>(line[digits_end])))
        ++digits_end;
      if (digits_end == 8) continue;
      auto index = static_cast<std::uint32_t>(parse_number(line.substr(8, digits_end - 8), 10));
      LldbThread& thread = threads[index];
      thread.index = index;
      std::string name = thread_name_in(line);
      if (!name.empty()) thread.name = name;
      if (line.compare(digits_end, 8, ": tid = ") == 0) {
        // `thread list`: "thread #2: tid = 32593, 0x... libc.so.6`f(...) at x.c:48:7, ..."
        std::size_t at = digits_end + 8;
        std::size_t end = line.find(',', at);
        thread.tid = parse_number(line.substr(at, end == std::string::npos ? end : end - at), 0);
        current = nullptr;
      } else {
        // `bt` / stop report: "thread #2, name = 'sd-nanosleep', stop reason = ..."
        thread.frames.clear();
        thread.frame_details.clear();
        current = &thread;
      }
      continue;
    }
    if (starts_with(line, "frame #")) {
      std::size_t colon = line.find(": ");
      if (current == nullptr || colon == std::string::npos) continue;
      LldbFrame frame = parse_lldb_frame(line.substr(colon + 2));
      std::string shown = frame.function;
      if (shown.empty()) {
        std::ostringstream pc;
        pc << "0x" << std::hex << frame.pc;
        shown = pc.str();
      }
      current->frames.push_back(shown);
      current->frame_details.push_back(frame);
      continue;
    }
    // Anything else ("(lldb) bt all", "Process 1 stopped", a source listing) ends a thread.
    current = nullptr;
  }
  std::vector<LldbThread> result;
  for (auto& [index, thread] : threads) result.push_back(std::move(thread));
  return result;
}

std::vector<LldbModule> parse_lldb_image_list(const std::string& lldb_output) {
  std::vector<LldbModule> modules;
  bool last_is_module = false;
  for (const std::string& raw_line : lines_of(lldb_output)) {
    std::string line = trim(raw_line);
    if (starts_with(line, "[")) {
      std::size_t close = line.find(']');
      bool numbered = close != std::string::npos && close > 1;
      for (std::size_t i = 1; numbered && i < close; ++i)
        if (!std::isdigit(static_cast<unsigned char>(line[i])) && line[i] != ' ') numbered = false;
      if (numbered) {
        std::string rest = trim(line.substr(close + 1));
        LldbModule module;
        if (!starts_with(rest, "0x")) {  // a UUID column comes first
          std::size_t space = rest.find(' ');
          module.uuid = rest.substr(0, space);
          rest = space == std::string::npos ? std::string() : trim(rest.substr(space));
        }
        std::size_t space = rest.find(' ');
        module.base = parse_number(rest.substr(0, space), 16);
        module.path = space == std::string::npos ? std::string() : trim(rest.substr(space));
        modules.push_back(module);
        last_is_module = true;
        continue;
      }
    }
    bool indented = !raw_line.empty() && std::isspace(static_cast<unsigned char>(raw_line[0]));
    if (last_is_module && indented && !line.empty() && modules.back().symbol_file.empty()) {
      modules.back().symbol_file = line;
      continue;
    }
    last_is_module = false;
  }
  return modules;
}

std::string lldb_uuid_to_hex(const std::string& uuid) {
  std::string hex;
  for (char c : uuid)
    if (c != '-') hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return hex;
}

StackwalkResult parse_minidump_stackwalk(const std::string& machine_output) {
  StackwalkResult result;
  result.raw = machine_output;
  bool saw_os = false;
  for (const std::string& line : lines_of(machine_output)) {
    if (line.empty()) continue;
    std::vector<std::string> f = split(line, '|');
    if (f[0] == "OS" && f.size() >= 2) {
      saw_os = true;
      result.os = f[1];
    } else if (f[0] == "CPU" && f.size() >= 2) {
      result.cpu = f[1];
    } else if (f[0] == "Crash" && f.size() >= 2) {
      result.crash_reason = f[1];
      if (f.size() >= 4 && !f[3].empty()) result.crashed_thread = std::atoi(f[3].c_str());
    } else if (f[0] == "Module" && f.size() >= 8) {
      // Module|name|version|debug_file|debug_identifier|base|end|main
      StackwalkModule module{f[1], f[4], parse_number(f[5], 16), parse_number(f[6], 16),
                             f[7] == "1"};
      result.modules.push_back(module.name);
      result.module_details.push_back(module);
    } else if (f.size() >= 7 && !f[0].empty() &&
               std::isdigit(static_cast<unsigned char>(f[0][0]))) {
      // thread|frame|module|function|source_file|source_line|offset
      std::string shown;
      if (!f[3].empty()) shown = f[3];
      else if (!f[2].empty()) shown = f[2] + " + " + f[6];
      else shown = f[6];
      result.thread_frames[std::atoi(f[0].c_str())].push_back(shown);
    }
  }
  result.ok = saw_os;
  return result;
}

StackwalkResult run_minidump_stackwalk(const std::string& dump, int timeout_ms) {
  return run_minidump_stackwalk(dump, std::string(), timeout_ms);
}

StackwalkResult run_minidump_stackwalk(const std::string& dump, const std::string& symbol_store,
                                       int timeout_ms) {
  const std::string tool = minidump_stackwalk_path();
  if (tool.empty()) {
    StackwalkResult missing;
    missing.err = "minidump_stackwalk is not installed (run scripts/setup.sh)\n";
    return missing;
  }
  std::vector<std::string> argv = {tool, "-m", dump};
  if (!symbol_store.empty()) argv.push_back(symbol_store);
  CommandResult run = run_command(argv, timeout_ms);
  StackwalkResult result = parse_minidump_stackwalk(run.out);
  result.err = run.err;
  result.ok = result.ok && run.exit_code == 0 && !run.timed_out;
  return result;
}

MinidumpDumpResult parse_minidump_dump(const std::string& out, const std::string& err) {
  MinidumpDumpResult result;
  result.raw = out;
  result.err = err;
  std::string block;  // the last unindented line: "MDRawThread", "Streams:", ...
  auto value_of = [](const std::string& line) {
    std::size_t eq = line.find('=');
    return eq == std::string::npos ? std::string() : trim(line.substr(eq + 1));
  };
  auto unquote = [](const std::string& text) {
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
      return text.substr(1, text.size() - 2);
    return text;
  };
  for (const std::string& line : lines_of(out)) {
    if (line.empty()) {
      block.clear();
      continue;
    }
    if (!std::isspace(static_cast<unsigned char>(line[0]))) {
      block = line;
      continue;
    }
    std::string t = trim(line);
    if (block == "Streams:" && starts_with(t, "stream type ")) {
      // "stream type 0x3 (MD_THREAD_LIST_STREAM) at index 3"
      std::size_t open = t.find('('), close = t.find(')');
      auto type = static_cast<std::uint32_t>(parse_number(t.substr(12), 16));
      result.streams[type] = (open != std::string::npos && close != std::string::npos)
                                 ? t.substr(open + 1, close - open - 1)
                                 : std::string();
    } else if (block == "MDRawThread" && starts_with(t, "thread_id ")) {
      result.thread_ids.push_back(parse_number(value_of(t), 16));
    } else if (block == "MDRawThreadName" && starts_with(t, "thread_name ")) {
      result.thread_names.push_back(unquote(value_of(t)));
    } else if (block == "MDRawModule" && starts_with(t, "(code_file) ")) {
      result.module_files.push_back(unquote(value_of(t)));
    }
  }
  for (const std::string& line : lines_of(err)) {
    std::size_t at = line.find("ERROR: ");
    if (at != std::string::npos) result.errors.push_back(line.substr(at + 7));
  }
  return result;
}

MinidumpDumpResult run_minidump_dump(const std::string& dump, int timeout_ms) {
  const std::string tool = minidump_dump_path();
  if (tool.empty()) {
    MinidumpDumpResult missing;
    missing.errors.push_back("minidump_dump is not installed (run scripts/setup.sh)");
    return missing;
  }
  CommandResult run = run_command({tool, dump}, timeout_ms);
  MinidumpDumpResult result = parse_minidump_dump(run.out, run.err);
  result.exit_code = run.timed_out ? -1 : run.exit_code;
  result.ok = !run.timed_out && run.exit_code == 0;
  return result;
}

}  // namespace snapdump::testing
