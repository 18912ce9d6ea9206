#include "target_hostile_names.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <latch>
#include <iterator>
#include <string>
#include <vector>

#include "target_cleanup.h"
#include "target_json.h"

namespace {

std::latch* g_named = nullptr;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "snapdump_target: --hostile-names: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

std::string hex_of(const std::string& bytes) {
  return sdtarget::hex_bytes(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string temp_path(const std::string& suffix) {
  return "/tmp/snapdump-target-" + std::to_string(getpid()) + "-" + suffix;
}

}  // namespace

extern "C" __attribute__((noinline, used)) void* park_with_hostile_name(void* name) {
  pthread_setname_np(pthread_self(), static_cast<const char*>(name));
  g_named->count_down();
  for (;;) {
    timespec request{1, 0};
    nanosleep(&request, nullptr);
  }
  return nullptr;
}

namespace sdtarget {

nlohmann::json create_hostile_names() {
  nlohmann::json report{{"threads", nlohmann::json::array()}, {"files", nlohmann::json::array()}};

  std::latch named(static_cast<std::ptrdiff_t>(std::size(kHostileThreadNames)));
  g_named = &named;
  std::vector<pthread_t> threads;
  for (const char* name : kHostileThreadNames) {
    pthread_t thread;
    if (int rc = pthread_create(&thread, nullptr, park_with_hostile_name, const_cast<char*>(name)); rc != 0) {
      errno = rc;
      fail("pthread_create");
    }
    pthread_detach(thread);
    threads.push_back(thread);
  }
  named.wait();
  g_named = nullptr;
  for (std::size_t i = 0; i < threads.size(); ++i) {
    // The name as the kernel keeps it (comm), read back through the thread's own handle.
    char comm[32] = {};
    pthread_getname_np(threads[i], comm, sizeof comm);
    report["threads"].push_back({{"name_hex", hex_of(comm)}});
  }

  // A path that is not UTF-8, and one holding an escape sequence that would clear the screen.
  for (const std::string& suffix : {std::string("path_\xff.bin"), std::string("esc_\x1b[2J\x1b[31m.bin")}) {
    const std::string path = temp_path(suffix);
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail("open");
    register_temp_path(path.c_str());
    nlohmann::json entry = fd_entry(fd, "regular");
    entry["path_hex"] = hex_of(path);
    report["files"].push_back(entry);
  }

  // A listening unix socket whose address is bytes too: /proc/net/unix lists it as it is.
  const std::string socket_path = temp_path("sock_\xfe\x1b[0m");
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof address.sun_path) fail("socket path too long");
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  unlink(socket_path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) fail("bind");
  register_temp_path(socket_path.c_str());
  if (listen(fd, 1) != 0) fail("listen");
  nlohmann::json socket_entry = fd_entry(fd, "unix-socket");
  socket_entry["path_hex"] = hex_of(socket_path);
  report["socket"] = socket_entry;
  return report;
}

}  // namespace sdtarget
