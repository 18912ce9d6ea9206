#include "support/target_process.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdexcept>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#ifndef SNAPDUMP_TARGET_PATH
#error "SNAPDUMP_TARGET_PATH must name the snapdump_target executable"
#endif

namespace snapdump::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Runs in the forked child, so only async-signal-safe calls: the parent may have other
// threads (and, under ASan, allocator locks) whose state the child must not touch.
[[noreturn]] void exec_target(int stdin_fd, int stdout_fd, int stderr_fd, char* const* argv) {
  if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0 ||
      dup2(stderr_fd, STDERR_FILENO) < 0)
    _exit(126);
  // Tests may block signals in the spawning thread; the target should start clean.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  execv(argv[0], argv);
  static const char message[] = "TargetProcess: execv of the target failed\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, message, sizeof message - 1);
  _exit(127);
}

// A test that SIGKILLs or loses the target leaves its temp files behind; remove them here.
void remove_temp_files(pid_t pid) {
  for (const char* suffix : {".dat", ".fifo"})
    ::unlink(("/tmp/snapdump-target-" + std::to_string(pid) + suffix).c_str());
}

}  // namespace

std::string target_path() { return SNAPDUMP_TARGET_PATH; }

std::uint64_t expected_heap_word(std::uint64_t offset) {
  return 0x5EED000000000000ULL | (offset / 8);
}

std::uint64_t parse_address(const nlohmann::json& value) {
  if (value.is_string()) return std::stoull(value.get<std::string>(), nullptr, 0);
  return value.get<std::uint64_t>();
}

std::unique_ptr<TargetProcess> TargetProcess::spawn(const std::vector<std::string>& args) {
  return spawn_via({}, args);
}

namespace {
// The first process below `root` (breadth first) running `exe`, or -1.
pid_t find_descendant_running(pid_t root, const std::string& exe) {
  std::vector<pid_t> queue{root};
  for (std::size_t i = 0; i < queue.size() && i < 1000; ++i) {
    std::error_code ec;
    std::filesystem::path dir = "/proc/" + std::to_string(queue[i]) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(dir, ec)) {
      std::ifstream children(task.path() / "children");
      for (long child; children >> child;) {
        pid_t pid = static_cast<pid_t>(child);
        std::error_code link_ec;
        auto target = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", link_ec);
        if (!link_ec && std::filesystem::equivalent(target, exe, link_ec)) return pid;
        queue.push_back(pid);
      }
    }
  }
  return -1;
}
}  // namespace

std::unique_ptr<TargetProcess> TargetProcess::spawn_via(const std::vector<std::string>& launcher,
                                                        const std::vector<std::string>& args) {
  std::string path = target_path();
  std::vector<std::string> argv = launcher;
  argv.push_back(path);
  argv.insert(argv.end(), args.begin(), args.end());
  std::unique_ptr<TargetProcess> target = start(argv, 20000);
  if (!launcher.empty()) {
    target->target_pid_ = find_descendant_running(target->pid_, path);
    if (target->target_pid_ <= 0)
      throw std::runtime_error("snapdump_target started through " + launcher.front() +
                               " is not among its descendants");
  }
  return target;
}

std::unique_ptr<TargetProcess> TargetProcess::spawn_program(const std::vector<std::string>& argv,
                                                            int ready_timeout_ms) {
  if (argv.empty()) throw std::invalid_argument("spawn_program: no program");
  return start(argv, ready_timeout_ms);
}

std::unique_ptr<TargetProcess> TargetProcess::start(std::vector<std::string> storage, int ready_timeout_ms) {
  std::unique_ptr<TargetProcess> target(new TargetProcess());
  target->name_ = std::filesystem::path(storage.front()).filename().string();
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) throw std::runtime_error(errno_text("pipe2"));
  if (pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    throw std::runtime_error(errno_text("pipe2"));
  }
  target->stdin_fd_ = to_child[1];
  target->stdout_fd_ = from_child[0];
  // A memfd rather than a pipe: nobody has to drain it while the target runs, and it can be
  // read at any time for an error message.
  target->stderr_fd_ = memfd_create("snapdump-target-stderr", MFD_CLOEXEC);

  std::vector<char*> argv;
  for (std::string& arg : storage) argv.push_back(arg.data());
  argv.push_back(nullptr);

  if (target->stderr_fd_ < 0) {
    const std::string message = errno_text("memfd_create");
    for (int fd : {to_child[0], from_child[1]}) ::close(fd);
    throw std::runtime_error(message);
  }
  const pid_t pid = fork();
  if (pid == 0) exec_target(to_child[0], from_child[1], target->stderr_fd_, argv.data());
  const int fork_errno = errno;
  for (int fd : {to_child[0], from_child[1]}) ::close(fd);
  if (pid < 0) {
    errno = fork_errno;
    throw std::runtime_error(errno_text("fork"));
  }
  target->pid_ = pid;

  // On failure the unique_ptr's destructor kills and reaps the child.
  std::string line;
  try {
    line = target->read_line(ready_timeout_ms);
    target->report_ = nlohmann::json::parse(line);
  } catch (const std::exception& error) {
    throw std::runtime_error(target->name_ + " did not become ready: " + error.what() + "\nstderr:\n" +
                             target->stderr_text());
  }
  if (!target->report_.is_object() || !target->report_.value("ready", false))
    throw std::runtime_error(target->name_ + " sent a bad READY line: " + line + "\nstderr:\n" +
                             target->stderr_text());
  return target;
}

TargetProcess::~TargetProcess() {
  if (pid_ > 0 && !poll_exit()) {
    try {
      write_line("exit");
    } catch (const std::exception&) {
      // Already gone or not listening; the kill below covers it.
    }
    if (wait_exit(5000) == -1) {
      ::kill(pid_, SIGKILL);
      wait_exit(5000);
      remove_temp_files(pid_);
    }
  }
  close_fd(stdin_fd_);
  close_fd(stdout_fd_);
  close_fd(stderr_fd_);
}

bool TargetProcess::poll_exit() const {
  if (exited_) return true;
  siginfo_t info{};
  // Peek first: if a tracer in this process has the target stopped, a plain waitpid here
  // would swallow the stop notification the tracer is waiting for.
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == ECHILD) {
      // Reaped by someone else (e.g. a tracer in the test); the status is lost.
      exited_ = true;
      status_ = -2;
    }
    return exited_;
  }
  if (info.si_pid != pid_) return false;
  if (info.si_code != CLD_EXITED && info.si_code != CLD_KILLED && info.si_code != CLD_DUMPED)
    return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    exited_ = true;
    status_ = status;
  }
  return exited_;
}

bool TargetProcess::alive() const { return !poll_exit(); }

int TargetProcess::wait_exit(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!poll_exit()) {
    if (Clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return status_;
}

std::string TargetProcess::stderr_text() const {
  struct stat status {};
  if (stderr_fd_ < 0 || ::fstat(stderr_fd_, &status) != 0) return {};
  std::string text(static_cast<std::size_t>(status.st_size), '\0');
  ssize_t n = ::pread(stderr_fd_, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return text;
}

std::string TargetProcess::read_line(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto newline = pending_.find('\n'); newline != std::string::npos) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      if (line.empty()) continue;
      return line;
    }
    pollfd readable{stdout_fd_, POLLIN, 0};
    const int ready = ::poll(&readable, 1, remaining_ms(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(errno_text("poll"));
    }
    if (ready == 0) throw std::runtime_error("timed out waiting for a line from " + name_);
    char chunk[65536];
    const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw std::runtime_error(errno_text("read"));
    }
    if (n == 0) throw std::runtime_error(name_ + " closed its stdout (exited?)");
    pending_.append(chunk, static_cast<std::size_t>(n));
  }
}

void TargetProcess::write_line(const std::string& line) {
  const std::string text = line + "\n";
  // A dead target turns the write into SIGPIPE, which would kill the whole test binary.
  // Block it for this thread only, and swallow the one this write raises.
  sigset_t pipe_only;
  sigset_t previous;
  sigset_t pending;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &previous);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  std::size_t done = 0;
  int error = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(stdin_fd_, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == EPIPE && !was_pending) {
    const timespec no_wait{0, 0};
    sigtimedwait(&pipe_only, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (error != 0) {
    errno = error;
    throw std::runtime_error(errno_text(("write to " + name_).c_str()));
  }
}

nlohmann::json TargetProcess::command(const std::string& line, int timeout_ms) {
  write_line(line);
  const std::string answer = read_line(timeout_ms);
  try {
    return nlohmann::json::parse(answer);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error(name_ + " answered with non-JSON: " + answer);
  }
}

std::string temp_dump_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("snapdump-" + std::to_string(getpid()) + "-" + name + ".dmp"))
      .string();
}

}  // namespace snapdump::testing
