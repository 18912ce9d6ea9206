#include "linux/ptrace_thread.h"

#include <elf.h>
#include <sched.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "snapdump/error.h"

namespace snapdump::os {
namespace {

[[noreturn]] void fail(const char* what, pid_t tid, int err) {
  throw Error(errc_from_errno(err), fmt::format("{} on thread {}: {}", what, tid, std::strerror(err)),
              err);
}

long checked_ptrace(const char* what, int request, pid_t tid, void* addr, void* data) {
  errno = 0;
  long r = ptrace(static_cast<__ptrace_request>(request), tid, addr, data);
  if (r == -1 && errno != 0) fail(what, tid, errno);
  return r;
}

// The kernel refuses to seize a zombie with EPERM, not ESRCH: tell a dead thread from a refusal.
bool thread_is_dead(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", tid);
  FILE* f = std::fopen(path, "re");
  if (!f) return true;
  char line[512] = {};
  size_t n = std::fread(line, 1, sizeof line - 1, f);
  std::fclose(f);
  const char* close = nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (line[i] == ')') close = &line[i];
  }
  return close != nullptr && close + 2 < line + n && (close[2] == 'Z' || close[2] == 'X');
}

}  // namespace

int wait_for(pid_t tid, std::chrono::milliseconds timeout, int* status) {
  // Polling instead of a blocking waitpid: a thread in uninterruptible sleep (D state) may
  // never stop, and the caller must be able to give up and release the others. The first
  // millisecond spins with sched_yield because a stop normally arrives within microseconds
  // and every microsecond here is pause the target sees.
  auto start = std::chrono::steady_clock::now();
  auto deadline = start + timeout;
  for (;;) {
    pid_t r = waitpid(tid, status, __WALL | WNOHANG);
    if (r == tid) return r;
    if (r == -1) {
      if (errno == EINTR) continue;
      return -1;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      throw Error(Errc::internal,
                  fmt::format("thread {} did not stop within {} ms (it may be in uninterruptible "
                              "sleep, state D, e.g. waiting on a stuck file system)",
                              tid, timeout.count()));
    }
    if (now - start < std::chrono::milliseconds(1)) {
      sched_yield();
    } else {
      struct timespec ts{0, 50'000};
      nanosleep(&ts, nullptr);
    }
  }
}

TracedThread::TracedThread(TracedThread&& other) noexcept
    : tid_(other.tid_),
      seized_(std::exchange(other.seized_, false)),
      pending_signal_(other.pending_signal_),
      group_stopped_(other.group_stopped_) {}

TracedThread& TracedThread::operator=(TracedThread&& other) noexcept {
  if (this != &other) {
    release();
    tid_ = other.tid_;
    seized_ = std::exchange(other.seized_, false);
    pending_signal_ = other.pending_signal_;
    group_stopped_ = other.group_stopped_;
  }
  return *this;
}

TracedThread::~TracedThread() { release(); }

bool TracedThread::seize(unsigned long options) {
  if (ptrace(PTRACE_SEIZE, tid_, nullptr, reinterpret_cast<void*>(options)) == 0) {
    seized_ = true;
    return true;
  }
  if (errno == ESRCH) return false;
  if (errno == EPERM && thread_is_dead(tid_)) return false;
  if (errno == EPERM) {
    throw Error(Errc::permission_denied,
                fmt::format("ptrace(PTRACE_SEIZE) of thread {} was refused (EPERM): another tracer "
                            "may be attached, or this user lacks the right to trace it",
                            tid_),
                EPERM);
  }
  fail("ptrace(PTRACE_SEIZE)", tid_, errno);
}

bool TracedThread::interrupt() {
  if (ptrace(PTRACE_INTERRUPT, tid_, nullptr, nullptr) == 0) return true;
  if (errno == ESRCH) return false;
  fail("ptrace(PTRACE_INTERRUPT)", tid_, errno);
}

StopResult TracedThread::wait_stop(std::chrono::milliseconds timeout) {
  for (;;) {
    int status = 0;
    if (wait_for(tid_, timeout, &status) == -1) {
      // ECHILD: the thread is gone and already reaped by the kernel (non-leader threads).
      seized_ = false;
      return StopResult::exited;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      seized_ = false;
      return StopResult::exited;
    }
    if (!WIFSTOPPED(status)) continue;
    int event = status >> 16;
    int sig = WSTOPSIG(status);
    if (event == PTRACE_EVENT_STOP) {
      // An interrupt stop reports SIGTRAP; a group stop (the target was already stopped by
      // SIGSTOP and friends) reports the stop signal: remember it so release() keeps it stopped.
      group_stopped_ = (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU);
      return StopResult::stopped;
    }
    if (event == 0) {
      // A signal-delivery stop won the race with our interrupt. The thread is stopped, which
      // is all we need; the signal is delivered when we let go, so the target loses nothing.
      pending_signal_ = sig;
      return StopResult::stopped;
    }
    // Any other event stop (we set no options, so none is expected): stopped as well.
    return StopResult::stopped;
  }
}

void TracedThread::get_regs(user_regs_struct& regs) const {
  checked_ptrace("PTRACE_GETREGS", PTRACE_GETREGS, tid_, nullptr, &regs);
}
void TracedThread::set_regs(const user_regs_struct& regs) const {
  checked_ptrace("PTRACE_SETREGS", PTRACE_SETREGS, tid_, nullptr, const_cast<user_regs_struct*>(&regs));
}
void TracedThread::get_fpregs(user_fpregs_struct& fpregs) const {
  checked_ptrace("PTRACE_GETFPREGS", PTRACE_GETFPREGS, tid_, nullptr, &fpregs);
}

std::vector<uint8_t> TracedThread::get_xstate() const {
  // The kernel trims iov_len to the real XSAVE size (AVX-512 needs about 2.7 KiB), so one
  // generous buffer avoids a CPUID query per thread.
  std::vector<uint8_t> area(16384);
  area.resize(get_xstate(area));
  return area;
}

size_t TracedThread::get_xstate(std::span<uint8_t> out) const {
  struct iovec iov{out.data(), out.size()};
  if (ptrace(PTRACE_GETREGSET, tid_, reinterpret_cast<void*>(NT_X86_XSTATE), &iov) == -1) {
    if (errno == EINVAL || errno == ENODEV) return 0;
    fail("PTRACE_GETREGSET(NT_X86_XSTATE)", tid_, errno);
  }
  return iov.iov_len;
}

std::array<uint64_t, 8> TracedThread::get_debug_registers() const {
  auto peek = [&](int i) {
    auto offset = offsetof(struct user, u_debugreg) + i * sizeof(long);
    return static_cast<uint64_t>(checked_ptrace("PTRACE_PEEKUSER(debug register)", PTRACE_PEEKUSER,
                                                tid_, reinterpret_cast<void*>(offset), nullptr));
  };
  std::array<uint64_t, 8> dr{};  // DR4/DR5 are reserved aliases of DR6/DR7: always 0
  dr[7] = peek(7);
  dr[6] = peek(6);
  // DR0-DR3 matter only when DR7 enables them (L0-L3/G0-G3, bits 0-7). Skipping them when none
  // is enabled saves four ptrace calls per thread inside the pause; the kernel holds no
  // breakpoint address for a slot nobody armed, so the common answer, 0, is the same.
  if (dr[7] & 0xff) {
    for (int i = 0; i < 4; ++i) dr[i] = peek(i);
  }
  return dr;
}

uint64_t TracedThread::get_sigmask() const {
  uint64_t mask = 0;
  checked_ptrace("PTRACE_GETSIGMASK", PTRACE_GETSIGMASK, tid_, reinterpret_cast<void*>(sizeof(mask)),
                 &mask);
  return mask;
}

void TracedThread::set_sigmask(uint64_t mask) const {
  checked_ptrace("PTRACE_SETSIGMASK", PTRACE_SETSIGMASK, tid_, reinterpret_cast<void*>(sizeof(mask)),
                 &mask);
}

void TracedThread::set_options(unsigned long options) const {
  checked_ptrace("PTRACE_SETOPTIONS", PTRACE_SETOPTIONS, tid_, nullptr, reinterpret_cast<void*>(options));
}

unsigned long TracedThread::get_event_message() const {
  unsigned long msg = 0;
  checked_ptrace("PTRACE_GETEVENTMSG", PTRACE_GETEVENTMSG, tid_, nullptr, &msg);
  return msg;
}

int TracedThread::resume_and_wait(int request) {
  checked_ptrace("ptrace(resume)", request, tid_, nullptr, nullptr);
  // The thread runs only the syscall we gave it (clone, wait4 on a dead child, close_range),
  // none of which can block, so a blocking wait is safe here, and it wakes the moment the
  // stop arrives: every microsecond of polling would be pause the target sees during a fork.
  // Should the thread be killed instead, its exit is the status, with one exception this relies
  // on callers to avoid: a thread-group leader whose traced siblings are zombies is not reported
  // until its tracer reaps them, so the carrier of an injected call is never the leader of a
  // target with other threads (TargetPause::make_clone).
  int status = 0;
  for (;;) {
    pid_t r = waitpid(tid_, &status, __WALL);
    if (r == tid_) break;
    if (r == -1 && errno == EINTR) continue;
    fail("waitpid", tid_, errno);
  }
  if (WIFEXITED(status) || WIFSIGNALED(status)) seized_ = false;
  return status;
}

void TracedThread::release() noexcept {
  if (!seized_) return;
  seized_ = false;
  // A group-stopped thread stays stopped after detach by itself (the kernel re-enters the
  // group stop), which is right: it was stopped before we came.
  ptrace(PTRACE_DETACH, tid_, nullptr, reinterpret_cast<void*>(static_cast<long>(pending_signal_)));
}

}  // namespace snapdump::os
