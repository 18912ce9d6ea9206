// Checks that snapdump_target really is what its READY report says, using only /proc and
// process_vm_readv, so the other tests can trust the report as their expected values.
#include "support/target_process.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

namespace snapdump::testing {
namespace {

std::string read_first_line(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  std::getline(file, line);
  return line;
}

std::string fd_link(pid_t pid, int fd) {
  const std::string path = "/proc/" + std::to_string(pid) + "/fd/" + std::to_string(fd);
  char buffer[4096];
  ssize_t n = readlink(path.c_str(), buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

template <typename T>
T read_remote(pid_t pid, std::uint64_t address) {
  T value{};
  iovec local{&value, sizeof value};
  iovec remote{reinterpret_cast<void*>(address), sizeof value};
  EXPECT_EQ(process_vm_readv(pid, &local, 1, &remote, 1, 0), static_cast<ssize_t>(sizeof value))
      << "process_vm_readv at " << std::hex << address << ": " << std::strerror(errno);
  return value;
}

bool path_exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Kept here, not taken from the report's link_prefix, so the test checks the target
// independently of what it claims.
const std::map<std::string, std::string>& link_prefixes() {
  static const std::map<std::string, std::string> prefixes{
      {"pipe_read", "pipe:["},          {"pipe_write", "pipe:["},
      {"unix_socketpair", "socket:["},  {"unix_listen", "socket:["},
      {"tcp_listen", "socket:["},       {"tcp_client", "socket:["},
      {"tcp_server", "socket:["},       {"udp", "socket:["},
      {"eventfd", "anon_inode:[eventfd]"}, {"timerfd", "anon_inode:[timerfd]"},
      {"signalfd", "anon_inode:[signalfd]"}, {"epoll", "anon_inode:[eventpoll]"},
      {"inotify", "anon_inode:inotify"}, {"memfd", "/memfd:snapdump-memfd"},
      {"directory", "/tmp"},
  };
  return prefixes;
}

class TargetProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { target_ = TargetProcess::spawn({"--all", "--heap-mib", "4"}); }
  std::unique_ptr<TargetProcess> target_;
};

TEST_F(TargetProcessTest, ThreadsHaveTheReportedNames) {
  const auto& threads = target_->report().at("threads");
  ASSERT_GE(threads.size(), 8u);
  std::set<std::string> names;
  for (const auto& thread : threads) {
    const pid_t tid = thread.at("tid").get<pid_t>();
    const std::string comm = read_first_line("/proc/" + std::to_string(target_->pid()) + "/task/" +
                                             std::to_string(tid) + "/comm");
    EXPECT_EQ(comm, thread.at("name").get<std::string>()) << "tid " << tid;
    names.insert(comm);
  }
  for (const char* name : {"sd-nanosleep", "sd-piperead", "sd-futex", "sd-epoll", "sd-accept",
                           "sd-spin", "sd-heartbeat"})
    EXPECT_TRUE(names.count(name)) << name;
  EXPECT_EQ(threads.at(0).at("tid").get<pid_t>(), target_->pid());
  for (const char* function : {"park_in_nanosleep", "park_in_pipe_read", "park_in_futex_wait",
                               "park_in_epoll_wait", "park_in_accept", "spin_in_user_space",
                               "heartbeat_loop", "hold_avx_registers"})
    EXPECT_NE(parse_address(target_->report().at("functions").at(function)), 0u) << function;
}

TEST_F(TargetProcessTest, FdKindsMatchProc) {
  const auto& fds = target_->report().at("fds");
  std::set<std::string> kinds;
  for (const auto& entry : fds) {
    const int fd = entry.at("fd").get<int>();
    const std::string kind = entry.at("kind").get<std::string>();
    const std::string link = fd_link(target_->pid(), fd);
    kinds.insert(kind);
    if (kind == "file" || kind == "fifo") {
      EXPECT_EQ(link, entry.at("path").get<std::string>());
    } else if (kind == "pidfd") {
      // Kernels with pidfs (6.9+) may show "pidfd:[...]" instead of an anon inode.
      EXPECT_TRUE(link == "anon_inode:[pidfd]" || link.starts_with("pidfd:")) << link;
    } else {
      ASSERT_TRUE(link_prefixes().count(kind)) << "unexpected kind " << kind;
      EXPECT_TRUE(link.starts_with(link_prefixes().at(kind))) << kind << " fd " << fd << " -> " << link;
    }
    if (link.starts_with("socket:[") || link.starts_with("pipe:[")) {
      const auto inode = entry.at("inode").get<std::uint64_t>();
      EXPECT_TRUE(link.ends_with(":[" + std::to_string(inode) + "]")) << link;
    }
  }
  for (const char* kind : {"file", "directory", "pipe_read", "pipe_write", "fifo", "unix_socketpair",
                           "unix_listen", "tcp_listen", "tcp_client", "tcp_server", "udp", "eventfd",
                           "timerfd", "signalfd", "epoll", "inotify", "memfd", "pidfd"})
    EXPECT_TRUE(kinds.count(kind)) << kind;
}

TEST_F(TargetProcessTest, HeapHoldsThePatternAndCanBeOverwritten) {
  const auto& heap = target_->report().at("heap");
  const std::uint64_t base = parse_address(heap.at("addr"));
  const std::uint64_t size = heap.at("size").get<std::uint64_t>();
  ASSERT_EQ(size, 4u * 1024 * 1024);
  const std::uint64_t offsets[] = {0, 8, 4096, 123456 * 8, size - 8};
  for (std::uint64_t offset : offsets)
    EXPECT_EQ(read_remote<std::uint64_t>(target_->pid(), base + offset), expected_heap_word(offset));

  EXPECT_EQ(target_->command("overwrite-heap").value("ok", false), true);
  for (std::uint64_t offset : offsets)
    EXPECT_EQ(read_remote<std::uint64_t>(target_->pid(), base + offset), ~expected_heap_word(offset));
}

TEST_F(TargetProcessTest, MappingsHoldTheirFillBytes) {
  for (const auto& mapping : target_->report().at("mappings")) {
    if (!mapping.contains("fill")) continue;
    const auto fill = static_cast<std::uint8_t>(parse_address(mapping.at("fill")));
    const std::uint64_t start = parse_address(mapping.at("start"));
    const std::uint64_t size = mapping.at("size").get<std::uint64_t>();
    EXPECT_EQ(read_remote<std::uint8_t>(target_->pid(), start), fill) << mapping.dump();
    EXPECT_EQ(read_remote<std::uint8_t>(target_->pid(), start + size - 1), fill) << mapping.dump();
  }
}

TEST_F(TargetProcessTest, LibrariesAndAvxAreReported) {
  const auto& libs = target_->report().at("libs");
  EXPECT_EQ(libs.at("plugin").at("answer").get<int>(), 42);
  std::ifstream maps("/proc/" + std::to_string(target_->pid()) + "/maps");
  std::string text((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(libs.at("plugin").at("path").get<std::string>()), std::string::npos);
  EXPECT_EQ(text.find(libs.at("unloaded").at("path").get<std::string>()), std::string::npos);

  const auto& avx = target_->report().at("avx");
  if (__builtin_cpu_supports("avx")) {
    ASSERT_TRUE(avx.at("enabled").get<bool>());
    EXPECT_EQ(avx.at("values").at("ymm0").get<std::string>().substr(0, 8), "5a5b5859");
  }
}

TEST_F(TargetProcessTest, HeartbeatReportsASmallStallAndNoInterruptions) {
  EXPECT_EQ(target_->command("reset").value("ok", false), true);
  usleep(200 * 1000);
  const nlohmann::json beat = target_->heartbeat();
  EXPECT_GT(beat.at("iterations").get<std::uint64_t>(), 10u);
  // Generous: two spinning threads share a small CI machine with the heartbeat.
  EXPECT_LT(beat.at("max_stall_ns").get<std::uint64_t>(), 500'000'000u);
  for (const auto& [name, count] : beat.at("eintr").items()) EXPECT_EQ(count.get<int>(), 0) << name;
  EXPECT_EQ(beat.at("short_results").get<int>(), 0);
}

TEST_F(TargetProcessTest, ExitIsCleanAndRemovesEverything) {
  pid_t child = -1;
  std::vector<std::string> temp_paths;
  for (const auto& entry : target_->report().at("fds")) {
    if (entry.at("kind") == "pidfd") child = entry.at("pid").get<pid_t>();
    if (entry.contains("path") && entry.at("path").get<std::string>().starts_with("/tmp/snapdump-target-"))
      temp_paths.push_back(entry.at("path").get<std::string>());
  }
  ASSERT_GT(child, 0);
  ASSERT_EQ(temp_paths.size(), 2u);
  for (const auto& path : temp_paths) EXPECT_TRUE(path_exists(path)) << path;

  bool found_child = false;
  const nlohmann::json children = target_->command("children");
  for (const auto& entry : children.at("children"))
    if (entry.at("pid").get<pid_t>() == child) found_child = true;
  EXPECT_TRUE(found_child) << children.dump() << " child " << child;

  EXPECT_TRUE(target_->alive());
  EXPECT_EQ(target_->command("exit").value("ok", false), true);
  const int status = target_->wait_exit(5000);
  ASSERT_NE(status, -1);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(target_->alive());
  for (const auto& path : temp_paths) EXPECT_FALSE(path_exists(path)) << path;
  // Killed and reaped by the target, so the pid no longer exists at all.
  EXPECT_EQ(kill(child, 0), -1);
}

TEST(TargetProcessLifecycle, SigtermCleansUpLikeExit) {
  auto target = TargetProcess::spawn({"--fds", "--threads", "2", "--heap-mib", "1"});
  const std::string data = "/tmp/snapdump-target-" + std::to_string(target->pid()) + ".dat";
  EXPECT_TRUE(path_exists(data));
  ASSERT_EQ(kill(target->pid(), SIGTERM), 0);
  const int status = target->wait_exit(5000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(path_exists(data));
}

TEST(TargetProcessLifecycle, BadFlagThrowsWithTheTargetsStderr) {
  try {
    TargetProcess::spawn({"--no-such-flag"});
    FAIL() << "spawn should have thrown";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("unknown flag"), std::string::npos) << error.what();
  }
}

TEST(TargetProcessLifecycle, HelpersAgreeWithTheFormula) {
  EXPECT_EQ(expected_heap_word(0), 0x5EED000000000000ULL);
  EXPECT_EQ(expected_heap_word(8 * 0x1234 + 3), 0x5EED000000001234ULL);
  EXPECT_TRUE(target_path().ends_with("snapdump_target"));
}

}  // namespace
}  // namespace snapdump::testing
