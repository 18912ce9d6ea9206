#include "target_cleanup.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <initializer_list>
#include <sys/wait.h>
#include <unistd.h>

namespace sdtarget {
namespace {

constexpr int kMaxPaths = 8;
constexpr std::size_t kPathSize = 256;
char g_paths[kMaxPaths][kPathSize];
volatile sig_atomic_t g_path_count = 0;
volatile pid_t g_child = 0;

void on_termination_signal(int) { cleanup_and_exit(0); }

}  // namespace

void register_temp_path(const char* path) {
  if (g_path_count >= kMaxPaths || std::strlen(path) >= kPathSize) return;
  std::strcpy(g_paths[g_path_count], path);
  // Published only after the copy so a handler never sees a half-written path.
  g_path_count = g_path_count + 1;
}

void register_child(pid_t child) { g_child = child; }

void install_termination_handlers() {
  struct sigaction action {};
  action.sa_handler = on_termination_signal;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGTERM, SIGINT, SIGHUP}) sigaction(signal_number, &action, nullptr);
}

void cleanup_and_exit(int status) {
  for (int i = 0; i < g_path_count; ++i) unlink(g_paths[i]);
  if (pid_t child = g_child; child > 0) {
    g_child = 0;
    kill(child, SIGKILL);
    while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  _exit(status);
}

}  // namespace sdtarget
