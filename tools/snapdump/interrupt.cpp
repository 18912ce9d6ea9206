#include "interrupt.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include <fmt/format.h>

namespace snapdump::cli {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM};

std::atomic<int> g_signal{0};
std::atomic<bool> g_cooperative{false};
// Filled before the handlers can run, read only by them: plain buffers (async-signal-safe).
char g_temporary[PATH_MAX + 64];
char g_message[PATH_MAX + 128];

void write_all(const char* text) {
  size_t left = strlen(text);
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, text, left);
    if (n <= 0) return;
    text += n;
    left -= static_cast<size_t>(n);
  }
}

const char* name_of(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
  }
}

// Only async-signal-safe calls from here on.
[[noreturn]] void die_now(int sig) {
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigaction(sig, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
  kill(getpid(), sig);
  _exit(128 + sig);
}

[[noreturn]] void end_process(int sig) {
  if (g_temporary[0] != '\0') unlink(g_temporary);
  write_all("snapdump: interrupted by ");
  write_all(name_of(sig));
  write_all(g_message);
  die_now(sig);
}

void on_signal(int sig) {
  if (sig == SIGALRM) {
    int first = g_signal.load();
    if (first != 0) end_process(first);
    return;
  }
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, sig)) end_process(expected);  // a second signal
  if (!g_cooperative.load()) end_process(sig);
  alarm(InterruptGuard::kGraceSeconds);
}

}  // namespace

InterruptGuard::InterruptGuard() {
  g_signal = 0;
  g_cooperative = false;
  g_temporary[0] = '\0';
  std::snprintf(g_message, sizeof g_message, ": no dump was written\n");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int s : kSignals) sigaddset(&sa.sa_mask, s);
  // SA_RESTART: the capture's and the writer's system calls go on as if nothing happened (not
  // all of them expect EINTR); the dump stops at its next cancel check, or the grace alarm ends it.
  sa.sa_flags = SA_RESTART;
  for (size_t i = 0; i < 4; ++i) {
    sigaction(kSignals[i], nullptr, &old_[i]);
    // A signal ignored by whoever started snapdump (nohup, a shell's background job) stays
    // ignored: it was not meant to stop anything.
    if (old_[i].sa_handler == SIG_IGN && kSignals[i] != SIGALRM) continue;
    sigaction(kSignals[i], &sa, nullptr);
  }
}

InterruptGuard::~InterruptGuard() {
  alarm(0);
  for (size_t i = 0; i < 4; ++i) sigaction(kSignals[i], &old_[i], nullptr);
}

void InterruptGuard::set_output(const char* temporary_name, const std::string& outcome) {
  std::snprintf(g_temporary, sizeof g_temporary, "%s", temporary_name);
  std::snprintf(g_message, sizeof g_message, ": %s\n", outcome.c_str());
}

void InterruptGuard::target_touched() { g_cooperative = true; }

int InterruptGuard::signal_received() noexcept { return g_signal.load(); }

void InterruptGuard::die(const std::string& outcome) {
  int sig = g_signal.load();
  alarm(0);
  std::fflush(stdout);
  fmt::print(stderr, "snapdump: interrupted by {}: {}\n", name_of(sig), outcome);
  std::fflush(stderr);
  die_now(sig);
}

}  // namespace snapdump::cli
