#include "thread_registry.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "heartbeat.h"
#include "park_functions.h"
#include "target_json.h"

namespace sdtarget {
namespace {

std::vector<std::unique_ptr<ThreadSlot>> g_slots;

struct KindInfo {
  ThreadKind kind;
  const char* name;
  const char* function;
  const char* blocking_call;
  const char* kind_name;
  bool sleeps;
  void* (*body)(void*);
};

constexpr KindInfo kKinds[] = {
    {ThreadKind::nanosleep, "sd-nanosleep", "park_in_nanosleep", "nanosleep", "nanosleep", true,
     park_in_nanosleep},
    {ThreadKind::pipe_read, "sd-piperead", "park_in_pipe_read", "read", "pipe_read", true,
     park_in_pipe_read},
    {ThreadKind::futex_wait, "sd-futex", "park_in_futex_wait", "futex", "futex_wait", true,
     park_in_futex_wait},
    {ThreadKind::epoll_wait, "sd-epoll", "park_in_epoll_wait", "epoll_wait", "epoll_wait", true,
     park_in_epoll_wait},
    {ThreadKind::accept, "sd-accept", "park_in_accept", "accept", "accept", true, park_in_accept},
    {ThreadKind::spin, "sd-spin", "spin_in_user_space", "none", "spin", false, spin_in_user_space},
    {ThreadKind::heartbeat, "sd-heartbeat", "heartbeat_loop", "clock_nanosleep", "heartbeat", false,
     heartbeat_loop},
    {ThreadKind::avx, "sd-avx", "hold_avx_registers", "none", "avx", false, hold_avx_registers},
    {ThreadKind::load_spin, "sd-load", "spin_for_load", "none", "load_spin", false, spin_for_load},
    {ThreadKind::idle, "sd-idle", "park_idle", "nanosleep", "idle", true, park_idle},
};

const KindInfo& info(ThreadKind kind) {
  for (const KindInfo& entry : kKinds)
    if (entry.kind == kind) return entry;
  throw std::logic_error("unknown thread kind");
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "snapdump_target: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

void make_pipe(ThreadSlot& slot) {
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0) fail("pipe2");
  // Both ends stay open for the life of the target: with the write end closed the read
  // would return EOF at once instead of blocking.
  slot.pipe_read_fd = ends[0];
  slot.pipe_write_fd = ends[1];
}

void prepare_resources(ThreadSlot& slot) {
  switch (slot.kind) {
    case ThreadKind::pipe_read:
      make_pipe(slot);
      slot.wait_fd = slot.pipe_read_fd;
      break;
    case ThreadKind::epoll_wait: {
      make_pipe(slot);
      slot.wait_fd = epoll_create1(EPOLL_CLOEXEC);
      if (slot.wait_fd < 0) fail("epoll_create1");
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = slot.pipe_read_fd;
      if (epoll_ctl(slot.wait_fd, EPOLL_CTL_ADD, slot.pipe_read_fd, &event) != 0) fail("epoll_ctl");
      break;
    }
    case ThreadKind::accept: {
      slot.wait_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (slot.wait_fd < 0) fail("socket");
      sockaddr_in address{};
      address.sin_family = AF_INET;
      address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t length = sizeof address;
      if (bind(slot.wait_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
          listen(slot.wait_fd, 4) != 0 ||
          getsockname(slot.wait_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
        fail("listen");
      slot.port = ntohs(address.sin_port);
      break;
    }
    default:
      break;
  }
}

void add_slot(ThreadKind kind) {
  auto slot = std::make_unique<ThreadSlot>();
  const KindInfo& kind_info = info(kind);
  slot->kind = kind;
  slot->name = kind_info.name;
  slot->function = kind_info.function;
  slot->blocking_call = kind_info.blocking_call;
  slot->sleeps = kind_info.sleeps;
  prepare_resources(*slot);
  g_slots.push_back(std::move(slot));
}

char thread_state(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
  FILE* file = std::fopen(path, "r");
  if (file == nullptr) return '?';
  char buffer[512] = {};
  std::size_t n = std::fread(buffer, 1, sizeof buffer - 1, file);
  std::fclose(file);
  buffer[n] = '\0';
  // The comm field may itself contain ')' so the state follows the last one.
  const char* close = std::strrchr(buffer, ')');
  return close != nullptr && close[1] == ' ' ? close[2] : '?';
}

// "Parked" means the thread reached its loop and, for the sleeping kinds, that the kernel
// shows it asleep; a capture taken right after READY then finds every thread in its call.
void wait_until_parked(const ThreadSlot& slot) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::seconds(5);
  while (slot.parked.load() == 0 && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  if (!slot.sleeps) return;
  while (thread_state(slot.tid.load()) != 'S' && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
}

std::string main_thread_name() {
  char name[32] = {};
  FILE* file = std::fopen("/proc/self/comm", "r");
  if (file != nullptr) {
    if (std::fgets(name, sizeof name, file) == nullptr) name[0] = '\0';
    std::fclose(file);
  }
  std::string text = name;
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::atomic<std::uint64_t> g_main_eintr{0};

}  // namespace

void count_main_eintr() { g_main_eintr.fetch_add(1); }

void announce_thread(ThreadSlot& slot) {
  pthread_setname_np(pthread_self(), slot.name);
  slot.tid.store(gettid());
  slot.started->count_down();
}

void count_result(ThreadSlot& slot, int error_number) {
  if (error_number == EINTR) slot.eintr.fetch_add(1);
  else slot.unexpected.fetch_add(1);
}

void start_threads(const ThreadPlan& plan) {
  constexpr ThreadKind cycle[] = {ThreadKind::nanosleep,  ThreadKind::pipe_read,
                                  ThreadKind::futex_wait, ThreadKind::epoll_wait,
                                  ThreadKind::accept,     ThreadKind::spin};
  for (std::size_t i = 0; i < plan.park_threads; ++i) add_slot(cycle[i % std::size(cycle)]);
  add_slot(ThreadKind::heartbeat);
  if (plan.avx) add_slot(ThreadKind::avx);
  for (std::size_t i = 0; i < plan.spin_threads; ++i) add_slot(ThreadKind::load_spin);
  for (std::size_t i = 0; i < plan.idle_threads; ++i) add_slot(ThreadKind::idle);

  std::latch started(static_cast<std::ptrdiff_t>(g_slots.size()));
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  // Small stacks: benches start dozens of threads and none of these bodies go deep.
  pthread_attr_setstacksize(&attributes, 256 * 1024);
  pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
  for (auto& slot : g_slots) {
    slot->started = &started;
    pthread_t thread;
    if (int rc = pthread_create(&thread, &attributes, info(slot->kind).body, slot.get()); rc != 0) {
      errno = rc;
      fail("pthread_create");
    }
  }
  pthread_attr_destroy(&attributes);
  started.wait();
  for (auto& slot : g_slots) {
    slot->started = nullptr;
    wait_until_parked(*slot);
  }
}

const std::vector<std::unique_ptr<ThreadSlot>>& thread_slots() { return g_slots; }

nlohmann::json threads_json() {
  nlohmann::json threads = nlohmann::json::array();
  threads.push_back({{"tid", getpid()},
                     {"name", main_thread_name()},
                     {"function", "main"},
                     {"blocking_call", "read"},
                     {"kind", "main"}});
  for (const auto& slot : g_slots) {
    nlohmann::json entry{{"tid", slot->tid.load()},
                         {"name", slot->name},
                         {"function", slot->function},
                         {"blocking_call", slot->blocking_call},
                         {"kind", info(slot->kind).kind_name},
                         {"parked", slot->parked.load() != 0}};
    if (slot->kind == ThreadKind::accept) entry["port"] = slot->port;
    threads.push_back(std::move(entry));
  }
  return threads;
}

nlohmann::json functions_json() {
  nlohmann::json functions = nlohmann::json::object();
  for (const KindInfo& entry : kKinds)
    functions[entry.function] = hex(reinterpret_cast<const void*>(entry.body));
  return functions;
}

nlohmann::json thread_fds_json() {
  nlohmann::json fds = nlohmann::json::array();
  auto owned = [](int fd, const char* kind, const ThreadSlot& slot) {
    nlohmann::json entry = fd_entry(fd, kind);
    entry["link_prefix"] = std::string(kind).starts_with("pipe") ? "pipe:["
                           : std::string(kind) == "epoll"        ? "anon_inode:[eventpoll]"
                                                                 : "socket:[";
    entry["owner"] = slot.name;
    entry["owner_tid"] = slot.tid.load();
    return entry;
  };
  for (const auto& slot : g_slots) {
    if (slot->pipe_read_fd >= 0) {
      fds.push_back(owned(slot->pipe_read_fd, "pipe_read", *slot));
      fds.push_back(owned(slot->pipe_write_fd, "pipe_write", *slot));
    }
    if (slot->kind == ThreadKind::epoll_wait) {
      nlohmann::json entry = owned(slot->wait_fd, "epoll", *slot);
      entry["watches"] = {{{"fd", slot->pipe_read_fd}, {"events", EPOLLIN},
                           {"data", slot->pipe_read_fd}}};
      fds.push_back(std::move(entry));
    }
    if (slot->kind == ThreadKind::accept) {
      nlohmann::json entry = owned(slot->wait_fd, "tcp_listen", *slot);
      entry["address"] = "127.0.0.1";
      entry["port"] = slot->port;
      fds.push_back(std::move(entry));
    }
  }
  return fds;
}

nlohmann::json counters_json() {
  nlohmann::json eintr = nlohmann::json::object();
  nlohmann::json unexpected = nlohmann::json::object();
  nlohmann::json per_thread = nlohmann::json::array();
  std::uint64_t short_results = 0;
  eintr["main"] = g_main_eintr.load();
  for (const auto& slot : g_slots) {
    const std::uint64_t slot_eintr = slot->eintr.load();
    const std::uint64_t slot_unexpected = slot->unexpected.load();
    // Several threads share a name when --threads cycles through the kinds; sum them.
    eintr[slot->name] = eintr.value(slot->name, std::uint64_t{0}) + slot_eintr;
    unexpected[slot->name] = unexpected.value(slot->name, std::uint64_t{0}) + slot_unexpected;
    short_results += slot_unexpected;
    per_thread.push_back({{"tid", slot->tid.load()},
                          {"name", slot->name},
                          {"eintr", slot_eintr},
                          {"unexpected", slot_unexpected}});
  }
  return {{"max_stall_ns", heartbeat_max_stall_ns()},
          {"iterations", heartbeat_iterations()},
          {"eintr", eintr},
          {"short_results", short_results},
          {"unexpected", unexpected},
          {"per_thread", per_thread}};
}

void reset_counters() {
  reset_heartbeat();
  g_main_eintr.store(0);
  for (auto& slot : g_slots) {
    slot->eintr.store(0);
    slot->unexpected.store(0);
  }
}

}  // namespace sdtarget
