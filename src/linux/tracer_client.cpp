#include "linux/tracer_client.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "common/records_in.h"
#include "linux/permissions.h"
#include "linux/tracer_server.h"
#include "linux/vm_arena.h"

#ifndef SNAPDUMP_TRACER_INSTALLED
#define SNAPDUMP_TRACER_INSTALLED ""
#endif
#ifndef SNAPDUMP_TRACER_BUILT
#define SNAPDUMP_TRACER_BUILT ""
#endif

extern char** environ;

namespace snapdump::os {
namespace {

using tracer::Op;

constexpr const char* kTracerName = "snapdump-tracer";

bool executable(const char* path) { return path[0] != '\0' && access(path, X_OK) == 0; }

// Where the tracer executable is; `looked` lists the places tried, for the error. Heap-free.
bool find_tracer(char (&path)[PATH_MAX], char (&looked)[2048]) {
  size_t used = 0;
  auto note = [&](const char* place) {
    int n = std::snprintf(looked + used, sizeof looked - used, "%s%s", used ? ", " : "", place);
    if (n > 0) used = std::min(sizeof looked - 1, used + static_cast<size_t>(n));
  };
  looked[0] = '\0';
  if (const char* forced = std::getenv("SNAPDUMP_TRACER_PATH"); forced != nullptr && forced[0] != '\0') {
    std::snprintf(path, sizeof path, "%s", forced);
    note(path);
    return executable(path);  // a path the user named is the only one tried
  }
  // Next to the program or library this code was linked into: bin/ and lib/ both have
  // ../libexec/snapdump/ beside them in an installed tree.
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&find_tracer), &info) != 0 && info.dli_fname != nullptr) {
    char self[PATH_MAX];
    if (realpath(info.dli_fname, self) != nullptr) {
      if (char* slash = std::strrchr(self, '/')) *slash = '\0';
      int n = std::snprintf(path, sizeof path, "%s/../libexec/snapdump/%s", self, kTracerName);
      if (n > 0 && static_cast<size_t>(n) < sizeof path) {
        note(path);
        if (executable(path)) return true;
      }
    }
  }
  for (const char* fixed : {SNAPDUMP_TRACER_INSTALLED, SNAPDUMP_TRACER_BUILT}) {
    if (fixed[0] == '\0') continue;
    std::snprintf(path, sizeof path, "%s", fixed);
    note(path);
    if (executable(path)) return true;
  }
  return false;
}

struct SpawnArgs {
  const char* path;
  char* const* argv;
  int socket;
  int error;  // set by the child when it fails before execve
};

// The child of a CLONE_VM | CLONE_VFORK clone: it shares the caller's memory until execve, so it
// only moves the socket to fd 3 and execs (what posix_spawn's child does). All signals are
// blocked in it (the caller blocked them around the clone), so no handler of the host program
// runs here. Not instrumented: its stack is not one the sanitizers know.
__attribute__((no_sanitize("address", "undefined"))) int spawn_child(void* p) {
  auto* a = static_cast<SpawnArgs*>(p);
  if (a->socket != 3) {
    if (dup2(a->socket, 3) < 0) {
      a->error = errno;
      _exit(127);
    }
  } else if (fcntl(3, F_SETFD, 0) < 0) {
    a->error = errno;
    _exit(127);
  }
  execve(a->path, a->argv, environ);
  a->error = errno;
  _exit(127);
}

// The in-process tracer's thread: serves until the library closes its end.
void* serve_thread(void* fd) {
  int socket = static_cast<int>(reinterpret_cast<intptr_t>(fd));
  serve_tracer(socket, 0, true);
  close(socket);
  return nullptr;
}

}  // namespace

Tracer::Tracer(pid_t target) : in_(-1, {buffer_, sizeof buffer_}) {
  (void)target;
  const char* mode = std::getenv("SNAPDUMP_TRACER");
  alignas(std::max_align_t) char room[512];
  std::pmr::monotonic_buffer_resource scratch(room, sizeof room);
  bool in_process = (mode != nullptr && std::strcmp(mode, "in-process") == 0) || only_ancestors_may_trace(&scratch);
  if (in_process) {
    start_thread();
  } else {
    start_process(target);
  }
  in_ = wire::MessageIn(fd_, {buffer_, sizeof buffer_});
  // The hello is read with the first request: the tracer starts up while the caller reads /proc.
}

void Tracer::start_process(pid_t) {
  char path[PATH_MAX];
  char looked[2048];
  if (!find_tracer(path, looked)) {
    throw Error(Errc::not_supported,
                fmt::format("snapdump's tracer helper ({}) was not found (looked at: {}). It is installed with "
                            "snapdump in libexec/snapdump/; set SNAPDUMP_TRACER_PATH to where it is",
                            kTracerName, looked));
  }
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    throw Error(Errc::resource_exhausted, fmt::format("cannot make a socket for snapdump's tracer: {}",
                                                      std::strerror(errno)), errno);
  }
  char owner[24];
  std::snprintf(owner, sizeof owner, "%d", getpid());
  char name[] = "snapdump-tracer";
  char socket_flag[] = "--socket";
  char socket_value[] = "3";
  char owner_flag[] = "--owner";
  char* argv[] = {name, socket_flag, socket_value, owner_flag, owner, nullptr};
  SpawnArgs args{path, argv, pair[1], 0};
  // The child runs on a stack of its own until it execs; the caller waits meanwhile (vfork).
  constexpr size_t kStack = 64 << 10;
  void* stack = nullptr;
  try {
    stack = map_pages(kStack);
  } catch (...) {
    close(pair[0]), close(pair[1]);
    throw Error(Errc::resource_exhausted, "no memory to start snapdump's tracer");
  }
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // Exit signal 0: the host program gets no SIGCHLD for the tracer, and a waitpid(-1) of its
  // own (without __WALL or __WCLONE) never reaps it.
  pid_t child = clone(spawn_child, static_cast<char*>(stack) + kStack, CLONE_VM | CLONE_VFORK, &args);
  int clone_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  unmap_pages(stack, kStack);
  close(pair[1]);
  if (child < 0) {
    close(pair[0]);
    throw Error(Errc::resource_exhausted, fmt::format("cannot start snapdump's tracer {}: {}", path,
                                                      std::strerror(clone_errno)), clone_errno);
  }
  if (args.error != 0) {
    int status = 0;
    while (waitpid(child, &status, __WALL) < 0 && errno == EINTR) {
    }
    close(pair[0]);
    throw Error(Errc::not_supported, fmt::format("cannot run snapdump's tracer {}: {}", path,
                                                 std::strerror(args.error)), args.error);
  }
  fd_ = pair[0];
  child_ = child;
  tracer_pid_ = child;
}

void Tracer::start_thread() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    throw Error(Errc::resource_exhausted, fmt::format("cannot make a socket for snapdump's tracer: {}",
                                                      std::strerror(errno)), errno);
  }
  if (int err = pthread_create(&thread_, nullptr, &serve_thread, reinterpret_cast<void*>(intptr_t{pair[1]}));
      err != 0) {
    close(pair[0]), close(pair[1]);
    throw Error(Errc::resource_exhausted, fmt::format("cannot start snapdump's tracer thread: {}",
                                                      std::strerror(err)), err);
  }
  pthread_setname_np(thread_, "snapdump-trace");
  thread_started_ = true;
  fd_ = pair[0];
  tracer_pid_ = getpid();
  in_process_ = true;
}

void Tracer::read_hello() {
  wire::Header header;
  if (int err = in_.next(header); err != 0) tracer_lost(err);
  tracer::Hello hello;
  if (header.op != static_cast<uint32_t>(Op::hello) || !in_.get(hello)) tracer_lost(EPROTO);
  in_.skip_rest();
  if (hello.version != tracer::kProtocolVersion) {
    throw Error(Errc::not_supported,
                fmt::format("snapdump's tracer (process {}) speaks protocol {}, this library {}: the "
                            "snapdump-tracer executable comes from another build; install matching versions",
                            hello.tracer_pid, hello.version, tracer::kProtocolVersion));
  }
  tracer_pid_ = hello.tracer_pid;
  hello_read_ = true;
}

Tracer::~Tracer() { shut_down(); }

void Tracer::shut_down() noexcept {
  if (fd_ >= 0) {
    // The tracer sees the connection close, releases what it holds and ends.
    close(fd_);
    fd_ = -1;
  }
  if (child_ > 0) {
    int status = 0;
    while (waitpid(child_, &status, __WALL) < 0 && errno == EINTR) {
    }
    child_ = 0;
  }
  if (thread_started_) {
    pthread_join(thread_, nullptr);
    thread_started_ = false;
  }
}

void Tracer::tracer_lost(int err) {
  if (in_process_) {
    throw Error(Errc::internal, fmt::format("snapdump's tracer thread stopped answering ({})", std::strerror(err)));
  }
  // Dead (killed from outside, or it crashed): the kernel has released the target's threads
  // and killed the clone (PTRACE_O_EXITKILL) already.
  int status = 0;
  char how[96] = "";
  if (child_ > 0 && waitpid(child_, &status, __WALL) == child_) {
    child_ = 0;
    if (WIFSIGNALED(status)) {
      std::snprintf(how, sizeof how, " (killed by signal %d, %s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else if (WIFEXITED(status)) {
      std::snprintf(how, sizeof how, " (exit status %d)", WEXITSTATUS(status));
    }
  }
  throw Error(Errc::internal,
              fmt::format("snapdump's tracer process {} is gone{}: the target was let go and its clone, if "
                          "any, died with it",
                          tracer_pid_, how),
              err);
}

void Tracer::exchange(Op op, const tracer::PauseRequest* request) {
  if (fd_ < 0) throw Error(Errc::internal, "snapdump's tracer is not running");
  if (!hello_read_) read_hello();
  {
    VmArena memory;
    wire::MessageOut out(static_cast<uint32_t>(op), &memory);
    if (request != nullptr) encode(out, *request);
    if (int err = out.send(fd_); err != 0) tracer_lost(err);
  }
  wire::Header header;
  if (int err = in_.next(header); err != 0) tracer_lost(err);
  if (header.op == static_cast<uint32_t>(Op::error)) throw tracer::decode_error(in_);
  if (header.op != static_cast<uint32_t>(Op::ok)) tracer_lost(EPROTO);
}

void Tracer::pause(const tracer::PauseRequest& request, PauseReply& reply) {
  std::lock_guard lock(mutex_);
  exchange(Op::pause, &request);
  tracer::PauseSummary& s = reply.summary;
  if (!in_.get(s)) tracer_lost(in_.error());
  std::pmr::memory_resource* memory = reply.threads.get_allocator().resource();
  reply.threads.reserve(s.thread_count);
  reply.stop_regs.reserve(s.thread_count);
  for (uint32_t i = 0; i < s.thread_count; ++i) {
    tracer::ThreadWire t;
    uint64_t xsave = 0;
    if (!in_.get(t) || !in_.get_run_size(xsave, 1 << 20)) tracer_lost(in_.error());
    ThreadEntry& e = reply.threads.emplace_back(thread_entry_in(t.tid, memory));
    e.capture = static_cast<ThreadCapture>(t.capture);
    e.context_flags = t.context_flags;
    if (request.want_context || request.want_xstate) e.regs = t.regs;
    e.fpregs = t.fpregs;
    e.debug_registers = t.debug_registers;
    e.capture_time_unix_ns = t.capture_time_unix_ns;
    e.xsave.resize(xsave);
    if (!in_.get_bytes(e.xsave)) tracer_lost(in_.error());
    reply.stop_regs.push_back(t.regs);
  }
  reply.pages.reserve(s.page_count);
  for (uint32_t i = 0; i < s.page_count; ++i) {
    tracer::PageWire p;
    uint64_t size = 0;
    if (!in_.get(p) || !in_.get_run_size(size, in_.remaining())) tracer_lost(in_.error());
    AuxiliaryPage& page = reply.pages.emplace_back(auxiliary_page_in(p.address, memory));
    page.prot = p.prot;
    page.why = static_cast<AuxiliaryPage::Why>(p.why);
    page.capture_time_unix_ns = p.capture_time_unix_ns;
    page.bytes.resize(size);
    if (!in_.get_bytes(page.bytes)) tracer_lost(in_.error());
  }
  if (s.region_count != request.regions.size()) tracer_lost(EPROTO);
  reply.region_states.resize(s.region_count);
  if (!in_.get_bytes({reinterpret_cast<uint8_t*>(reply.region_states.data()), reply.region_states.size()})) {
    tracer_lost(in_.error());
  }
  in_.skip_rest();
}

void Tracer::close_clone_files() {
  std::lock_guard lock(mutex_);
  exchange(Op::close_clone_files);
  in_.skip_rest();
}

void Tracer::drop_clone_memory(std::span<const std::pair<uint64_t, uint64_t>> ranges) {
  std::lock_guard lock(mutex_);
  if (fd_ < 0) return;
  if (!hello_read_) read_hello();
  VmArena memory;
  wire::MessageOut out(static_cast<uint32_t>(Op::drop_clone_memory), &memory);
  out.put(static_cast<uint64_t>(ranges.size()));
  for (auto [start, end] : ranges) {
    out.put(start);
    out.put(end);
  }
  if (int err = out.send(fd_); err != 0) tracer_lost(err);
}

TracerStatus Tracer::status() {
  std::lock_guard lock(mutex_);
  exchange(Op::status);
  tracer::StatusSummary s;
  uint64_t size = 0;
  if (!in_.get(s) || !in_.get_run_size(size, 1 << 16)) tracer_lost(in_.error());
  TracerStatus out;
  out.held = s.held;
  out.hold_broken = s.hold_broken;
  out.clone_alive = s.clone_alive;
  out.pause_end_ns = s.pause_end_ns;
  size_t kept = std::min<size_t>(size, sizeof out.reason - 1);
  in_.get_bytes({reinterpret_cast<uint8_t*>(out.reason), kept});
  in_.skip_rest();
  return out;
}

tracer::ReleaseSummary Tracer::release() {
  std::lock_guard lock(mutex_);
  exchange(Op::release);
  tracer::ReleaseSummary r;
  if (!in_.get(r)) tracer_lost(in_.error());
  in_.skip_rest();
  return r;
}

}  // namespace snapdump::os
