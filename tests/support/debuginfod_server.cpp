#include "support/debuginfod_server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/external_readers.h"

namespace snapdump::testing {
namespace {

// A port the kernel just handed out and took back: free unless someone grabs it in between,
// which on a test machine is unlikely enough (and then debuginfod fails to start, loudly).
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("no free port for debuginfod");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace

std::string debuginfod_path() {
  for (const char* path : {"/usr/bin/debuginfod", "/usr/local/bin/debuginfod"})
    if (::access(path, X_OK) == 0) return path;
  return "";
}

DebuginfodServer::DebuginfodServer(const std::string& directory, const std::string& state_directory)
    : state_directory_(state_directory) {
  std::string program = debuginfod_path();
  if (program.empty()) throw std::runtime_error("debuginfod is not installed (Debian package debuginfod)");
  port_ = free_port();
  std::vector<std::string> args = {program, "-F", directory, "-p", std::to_string(port_), "-d",
                                   state_directory + "/debuginfod.sqlite", "-t", "1", "-v"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log_path = state_directory + "/debuginfod.log";
  pid_ = fork();
  if (pid_ == 0) {
    int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    if (log < 0 || null < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(126);
    // The server must not ask another debuginfod server (the machine's DEBUGINFOD_URLS).
    unsetenv("DEBUGINFOD_URLS");
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid_ < 0) throw std::runtime_error("fork for debuginfod failed");
}

DebuginfodServer::~DebuginfodServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

std::string DebuginfodServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string DebuginfodServer::log() const {
  std::ifstream in(state_directory_ + "/debuginfod.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool DebuginfodServer::wait_serves(const std::string& build_id_hex, int timeout_ms) {
  // debuginfod-find, with a cache of its own that is emptied each try: a miss is not cached.
  std::string cache = state_directory_ + "/find-cache";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::filesystem::remove_all(cache);
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;  // it died: the log says why
    }
    auto r = run_command({"/usr/bin/env", "DEBUGINFOD_URLS=" + url(), "DEBUGINFOD_CACHE_PATH=" + cache,
                          "debuginfod-find", "debuginfo", build_id_hex},
                         10000);
    if (r.exit_code == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

}  // namespace snapdump::testing
