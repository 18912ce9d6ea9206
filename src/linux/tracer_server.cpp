#include "linux/tracer_server.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>

#include <fmt/format.h>

#include "common/phase_timer.h"
#include "linux/proc_files.h"
#include "linux/target_pause.h"
#include "linux/tracer_protocol.h"
#include "linux/tracer_wire.h"
#include "linux/vm_arena.h"

namespace snapdump::os {
namespace {

using tracer::Op;

// Test seam, as in target_pause.cpp: told on the tracer's thread when the release of the clone
// and held threads begins and ends (only an in-process tracer is seen by the test binary).
extern "C" __attribute__((weak)) void snapdump_test_release_observer(bool begins);

// The state letter of /proc/PID/stat, '\0' when it cannot be read (the process is gone).
char process_state(pid_t pid) noexcept {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  char text[512];
  size_t length = 0;
  if (read_file(path, text, sizeof text - 1, length) != 0) return '\0';
  text[length] = '\0';
  const char* close = std::strrchr(text, ')');
  return close != nullptr && close[1] == ' ' ? close[2] : '\0';
}

// What a capture leaves with the tracer until the library releases it: the pause's results (its
// held threads in hold mode) and the clone.
struct Session {
  VmArena memory;
  tracer::PauseRequest request{&memory};
  std::optional<TargetPause> pause;
  bool hold_broken = false;
  char reason[512] = {};
};

class Server {
 public:
  Server(int fd, pid_t owner, bool in_process)
      : fd_(fd), owner_(owner), in_process_(in_process), in_(fd, {buffer_, sizeof buffer_}) {}

  int run() {
    {
      VmArena memory;
      wire::MessageOut hello(static_cast<uint32_t>(Op::hello), &memory);
      tracer::Hello h;
      h.tracer_pid = static_cast<int32_t>(getpid());
      h.in_process = in_process_;
      hello.put(h);
      if (int err = hello.send(fd_); err != 0) return err;
    }
    int result = 0;
    for (;;) {
      wire::Header header;
      int err = in_.next(header, waiting());
      if (err != 0) {
        if (err != ECONNRESET) result = err;
        break;
      }
      try {
        if (!dispatch(static_cast<Op>(header.op))) break;
      } catch (const OwnerGone&) {
        break;
      }
    }
    end_session();
    return result;
  }

 private:
  wire::Waiting waiting() { return {&Server::tick, this, 100}; }

  // Called every 100 ms the tracer waits on the socket. Watches the owner of a hold: a target
  // must not stay frozen because snapdump was stopped (Ctrl-Z) or is sitting in a debugger.
  static bool tick(void* self) {
    auto& s = *static_cast<Server*>(self);
    if (s.owner_ <= 0 || !s.holding()) return true;
    char state = process_state(s.owner_);
    if (state != 'T' && state != 't') {
      s.owner_stopped_since_ = 0;
      return true;
    }
    uint64_t now = monotonic_ns();
    if (s.owner_stopped_since_ == 0) s.owner_stopped_since_ = now;
    if (now - s.owner_stopped_since_ >= uint64_t{kOwnerStoppedGraceMs} * 1'000'000) {
      s.session_->pause->release_threads();
      s.session_->hold_broken = true;
      std::snprintf(s.session_->reason, sizeof s.session_->reason,
                    "snapdump (process %d) was stopped for more than %d ms while it held process %d "
                    "stopped; the tracer let process %d go on, so the dump would no longer be one point in "
                    "time",
                    s.owner_, kOwnerStoppedGraceMs, s.session_->request.pid, s.session_->request.pid);
    }
    return true;
  }

  bool holding() const {
    return session_ && session_->pause && session_->request.mode == tracer::PauseMode::hold &&
           !session_->hold_broken && session_->pause->summary().pause_end_ns == 0;
  }

  static bool owner_gone(void* self) { return wire::peer_closed(static_cast<Server*>(self)->fd_); }

  // Returns false when the tracer should stop serving.
  bool dispatch(Op op) {
    if (op == Op::drop_clone_memory) return drop_clone_memory();
    VmArena reply_memory;
    wire::MessageOut reply(static_cast<uint32_t>(Op::ok), &reply_memory);
    try {
      switch (op) {
        case Op::pause:
          do_pause(reply);
          break;
        case Op::close_clone_files:
          in_.skip_rest();
          if (session_ && session_->pause && session_->pause->clone()) session_->pause->clone()->close_files();
          break;
        case Op::release:
          in_.skip_rest();
          reply.put(end_session());
          break;
        case Op::status:
          in_.skip_rest();
          do_status(reply);
          break;
        default:
          in_.skip_rest();
          throw Error(Errc::internal, fmt::format("snapdump's tracer got an unknown request {}",
                                                  static_cast<uint32_t>(op)));
      }
    } catch (const Error& e) {
      reply = wire::MessageOut(static_cast<uint32_t>(Op::error), &reply_memory);
      tracer::encode_error(reply, e);
    } catch (const std::bad_alloc&) {
      reply = wire::MessageOut(static_cast<uint32_t>(Op::error), &reply_memory);
      tracer::encode_error(reply, Error(Errc::resource_exhausted, "snapdump's tracer ran out of memory"));
    }
    // A reply that cannot be sent means the library is gone: stop serving.
    return reply.send(fd_, waiting()) == 0;
  }

  void do_pause(wire::MessageOut& reply) {
    if (session_) {
      in_.skip_rest();
      throw Error(Errc::internal, "snapdump's tracer already holds a capture");
    }
    session_.emplace();
    Session& s = *session_;
    if (!tracer::decode(in_, s.request)) {
      session_.reset();
      throw Error(Errc::internal, "snapdump's tracer got a malformed capture request");
    }
    // Without kCreateUseVmAllocations the pause takes what it keeps from the heap, as a capture
    // always did; with it, from the session's own pages.
    std::pmr::memory_resource* memory = s.request.vm_allocations ? static_cast<std::pmr::memory_resource*>(&s.memory)
                                                                 : std::pmr::new_delete_resource();
    s.pause.emplace(s.request, memory, &Server::owner_gone, this);
    try {
      s.pause->run();
    } catch (...) {
      session_.reset();  // run() undid everything before it threw
      throw;
    }
    encode_pause(reply, *s.pause);
    // Nothing left to hold: the session ends with the answer (its memory is sent first).
  }

  static void encode_pause(wire::MessageOut& out, const TargetPause& pause) {
    out.put(pause.summary());
    auto exited = [&](pid_t tid) {
      for (pid_t e : pause.exited())
        if (e == tid) return true;
      return false;
    };
    for (const TargetPause::StoppedThread& st : pause.stopped()) {
      tracer::ThreadWire t;
      t.tid = st.entry.tid;
      bool gone = exited(t.tid);
      t.capture = static_cast<uint8_t>(gone ? ThreadCapture::exited : ThreadCapture::stopped);
      t.context_flags = gone ? 0 : st.entry.context_flags;
      t.regs = st.regs;
      t.fpregs = st.entry.fpregs;
      t.debug_registers = st.entry.debug_registers;
      t.capture_time_unix_ns = st.entry.capture_time_unix_ns;
      out.put(t);
      out.put_run(gone ? std::span<const uint8_t>() : std::span<const uint8_t>(st.entry.xsave));
    }
    for (pid_t tid : pause.left_running()) {
      tracer::ThreadWire t;
      t.tid = tid;
      t.capture = static_cast<uint8_t>(ThreadCapture::left_running);
      out.put(t);
      out.put_run({});
    }
    for (const AuxiliaryPage& page : pause.pages()) {
      tracer::PageWire p{page.address, page.prot, static_cast<uint8_t>(page.why), page.capture_time_unix_ns};
      out.put(p);
      out.put_run(page.bytes);
    }
    auto states = pause.region_states();
    out.put_bytes_copied({reinterpret_cast<const uint8_t*>(states.data()), states.size()});
  }

  // Unanswered, so the library writes on while the clone lets go of what it has written; a
  // failure only leaves the memory where it was.
  bool drop_clone_memory() {
    uint64_t count = 0;
    if (!in_.get(count) || count > (1u << 20)) return in_.skip_rest();
    VmArena memory;
    std::pmr::vector<std::pair<uint64_t, uint64_t>> ranges(&memory);
    ranges.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      std::pair<uint64_t, uint64_t> r;
      if (!in_.get(r.first) || !in_.get(r.second)) return false;
      if (r.second > r.first) ranges.push_back(r);
    }
    try {
      if (session_ && session_->pause && session_->pause->clone()) session_->pause->clone()->drop_memory(ranges);
    } catch (...) {
    }
    return true;
  }

  void do_status(wire::MessageOut& reply) {
    tracer::StatusSummary st;
    const char* reason = "";
    if (session_ && session_->pause) {
      Session& s = *session_;
      TargetPause& p = *s.pause;
      if (s.request.mode == tracer::PauseMode::hold) {
        // A held thread that exited (the target was killed) is reported to us, its tracer.
        for (TargetPause::StoppedThread& t : p.held()) {
          if (!t.traced.seized()) continue;
          int status = 0;
          pid_t r = waitpid(t.traced.tid(), &status, __WALL | WNOHANG);
          if (r == t.traced.tid() && (WIFEXITED(status) || WIFSIGNALED(status))) {
            t.traced.forget();
            if (!s.hold_broken) {
              s.hold_broken = true;
              std::snprintf(s.reason, sizeof s.reason, "process %d exited while it was held (%s)", s.request.pid,
                            WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit");
            }
          }
        }
        st.held = !s.hold_broken && p.summary().pause_end_ns == 0;
      }
      if (auto& clone = p.clone()) {
        st.clone_alive = clone->alive();
        if (!st.clone_alive && !s.hold_broken) {
          s.hold_broken = true;
          std::snprintf(s.reason, sizeof s.reason,
                        "the VA clone %d of process %d died (killed from outside, e.g. by the OOM killer); "
                        "its memory is gone",
                        clone->pid(), s.request.pid);
        }
      }
      st.hold_broken = s.hold_broken;
      st.pause_end_ns = p.summary().pause_end_ns;
      reason = s.reason;
    }
    reply.put(st);
    reply.put_string(reason);
  }

  // Releases the held threads and the clone; returns when the pause ended.
  tracer::ReleaseSummary end_session() noexcept {
    tracer::ReleaseSummary out;
    if (!session_) return out;
    if (snapdump_test_release_observer != nullptr) snapdump_test_release_observer(true);
    if (session_->pause) {
      session_->pause->release_threads();
      out.pause_end_ns = session_->pause->summary().pause_end_ns;
      session_->pause->clone().reset();
    }
    session_.reset();
    if (snapdump_test_release_observer != nullptr) snapdump_test_release_observer(false);
    return out;
  }

  int fd_;
  pid_t owner_;
  bool in_process_;
  uint8_t buffer_[64 << 10];
  wire::MessageIn in_;
  std::optional<Session> session_;
  uint64_t owner_stopped_since_ = 0;
};

}  // namespace

int serve_tracer(int fd, pid_t owner, bool in_process) noexcept {
  try {
    // The server's buffer is 64 KiB: on the heap of an in-process tracer's thread would be
    // against kCreateUseVmAllocations, so it lives in pages of its own.
    void* room = map_pages(sizeof(Server));
    auto* server = new (room) Server(fd, owner, in_process);
    int result = server->run();
    server->~Server();
    unmap_pages(room, sizeof(Server));
    return result;
  } catch (...) {
    return ENOMEM;
  }
}

namespace {

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "snapdump-tracer: the helper process through which snapdump traces the process it "
               "captures.\nIt is started by snapdump and its library; it is not meant to be run by hand.\n");
  std::exit(2);
}

// The tracer belongs to no terminal and no process group of snapdump's, ignores every signal it
// can, and asks to be the OOM killer's last choice: what kills or stops snapdump must not kill
// or stop the process that holds the target.
void detach_from_the_caller() {
  setsid();
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP || sig == SIGCHLD || sig == SIGSEGV || sig == SIGBUS ||
        sig == SIGILL || sig == SIGFPE || sig == SIGABRT || sig == SIGTRAP || sig == SIGSYS) {
      continue;  // uncatchable, needed for ptrace, or a fault: the default is right
    }
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(sig, &ignore, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // -1000 needs CAP_SYS_RESOURCE; without it the tracer keeps its (tiny) default weight.
  if (int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
    (void)!write(fd, "-1000", 5);
    close(fd);
  }
  if (chdir("/") != 0) {
    // The caller's directory stays busy while the tracer lives: harmless.
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    if (null > 3) close(null);
  }
}

}  // namespace

int tracer_process_main(int argc, char** argv) {
  int fd = -1;
  pid_t owner = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    char* end = nullptr;
    long value = std::strtol(argv[i + 1], &end, 10);
    if (end == argv[i + 1] || *end != '\0' || value <= 0) usage();
    if (std::strcmp(argv[i], "--socket") == 0) {
      fd = static_cast<int>(value);
    } else if (std::strcmp(argv[i], "--owner") == 0) {
      owner = static_cast<pid_t>(value);
    } else {
      usage();
    }
  }
  struct stat st {};
  if (argc != 5 || fd < 3 || owner <= 0 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) usage();
  // Started by a process that is already gone: nothing to do.
  if (getppid() != owner) return 0;
  detach_from_the_caller();
  // Everything else the caller left open stays with the caller.
  syscall(SYS_close_range, static_cast<unsigned>(fd + 1), ~0u, 0);
  for (int other = 3; other < fd; ++other) close(other);
  return serve_tracer(fd, owner, false) == 0 ? 0 : 1;
}

}  // namespace snapdump::os
