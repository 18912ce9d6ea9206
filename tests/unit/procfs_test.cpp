// procfs readers against the test process itself and children with known state.
#include "linux/procfs.h"

#include <span>
#include <string_view>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace snapdump::os {
namespace {

// A pid that certainly does not exist now: a child that has exited and been reaped.
pid_t reaped_pid() {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

std::string self_exe() {
  char buffer[PATH_MAX] = {};
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

const Region* region_containing(std::span<const Region> regions, uint64_t address) {
  for (const Region& region : regions) {
    if (address >= region.start && address < region.end) return &region;
  }
  return nullptr;
}

template <typename F>
bool eventually(F condition) {
  for (int i = 0; i < 500; ++i) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

Errc error_code_of(auto&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.code();
  }
  return Errc::internal;
}

// A forked child that sets its name and waits to be killed.
struct PausedChild {
  pid_t pid = -1;
  explicit PausedChild(const char* name) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_NAME, name);
      char byte = 1;
      if (::write(ready[1], &byte, 1) != 1) ::_exit(1);
      while (true) ::pause();
    }
    ::close(ready[1]);
    char byte = 0;
    EXPECT_EQ(::read(ready[0], &byte, 1), 1);
    ::close(ready[0]);
  }
  ~PausedChild() {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
};

TEST(ProcfsTest, ReadTextFileReadsWholeFile) {
  std::string status = read_text_file("/proc/self/status");
  EXPECT_NE(status.find("Name:"), std::string::npos);
  // Longer than one read() buffer: smaps of a process is tens of kB.
  std::string smaps = read_text_file("/proc/self/smaps");
  EXPECT_GT(smaps.size(), 8192u);
  EXPECT_EQ(smaps.back(), '\n');
}

TEST(ProcfsTest, MissingFileNamesPathAndGivesNoSuchProcess) {
  pid_t gone = reaped_pid();
  std::string path = "/proc/" + std::to_string(gone) + "/stat";
  try {
    read_text_file(path);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), Errc::no_such_process);
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos);
    EXPECT_EQ(error.sys_errno(), ENOENT);
  }
}

TEST(ProcfsTest, NonexistentPidGivesNoSuchProcessEverywhere) {
  pid_t gone = reaped_pid();
  EXPECT_EQ(error_code_of([&] { read_maps(gone, false); }), Errc::no_such_process);
  EXPECT_EQ(error_code_of([&] { read_maps(gone, true); }), Errc::no_such_process);
  EXPECT_EQ(error_code_of([&] { read_process_info(gone); }), Errc::no_such_process);
  EXPECT_EQ(error_code_of([&] { list_threads(gone); }), Errc::no_such_process);
  EXPECT_EQ(error_code_of([&] { read_task_stat(gone, gone); }), Errc::no_such_process);
  EXPECT_EQ(error_code_of([&] { read_auxv(gone); }), Errc::no_such_process);
  EXPECT_EQ(error_code_of([&] { read_affinity(gone); }), Errc::no_such_process);
}

TEST(ProcfsTest, MapsHoldsOwnTextMapping) {
  auto regions = read_maps(::getpid(), false);
  auto code = reinterpret_cast<uint64_t>(&reaped_pid);
  const Region* text = region_containing(regions, code);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(text->prot, static_cast<uint32_t>(PROT_READ | PROT_EXEC));
  EXPECT_FALSE(text->shared);
  EXPECT_EQ(std::string(text->path), self_exe());
  EXPECT_NE(text->inode, 0u);
  EXPECT_EQ(text->type, RegionType::mapped);  // image only once elf_identity has looked
  EXPECT_FALSE(text->elf.has_value());
}

TEST(ProcfsTest, MapsKeepsSpacesAndDeletedMarkerInPaths) {
  std::string path = "/tmp/snapdump procfs (test) " + std::to_string(::getpid()) + ".bin";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 4096), 0);
  void* map = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(map, MAP_FAILED);
  auto address = reinterpret_cast<uint64_t>(map);

  const Region* region = nullptr;
  auto regions = read_maps(::getpid(), false);
  region = region_containing(regions, address);
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(std::string(region->path), path);
  EXPECT_EQ(region->prot, static_cast<uint32_t>(PROT_READ));
  EXPECT_EQ(region->type, RegionType::mapped);

  ::unlink(path.c_str());
  regions = read_maps(::getpid(), false);
  region = region_containing(regions, address);
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(std::string_view(region->path), path + " (deleted)");
  ::munmap(map, 4096);
  ::close(fd);
}

TEST(ProcfsTest, AnonymousRegionTypes) {
  const size_t size = 4 * 4096;
  void* priv = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  void* shared = ::mmap(nullptr, size, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(priv, MAP_FAILED);
  ASSERT_NE(shared, MAP_FAILED);
  // Guard against merging with a neighbour of equal flags: the private one gets a flag of its own.
  ASSERT_EQ(::madvise(priv, size, MADV_DONTDUMP), 0);
  auto regions = read_maps(::getpid(), true);
  const Region* p = region_containing(regions, reinterpret_cast<uint64_t>(priv));
  const Region* s = region_containing(regions, reinterpret_cast<uint64_t>(shared));
  ASSERT_NE(p, nullptr);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(p->type, RegionType::private_);
  EXPECT_TRUE(p->dont_dump);
  EXPECT_EQ(s->type, RegionType::mapped);
  EXPECT_TRUE(s->shared);
  EXPECT_EQ(s->path, "/dev/zero (deleted)");
  ::munmap(priv, size);
  ::munmap(shared, size);
}

TEST(ProcfsTest, SmapsFlagsAndSizes) {
  const size_t page = 4096, size = 8 * page;
  auto* dont_fork = static_cast<char*>(
      ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  auto* wipe = static_cast<char*>(
      ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(dont_fork, MAP_FAILED);
  ASSERT_NE(wipe, MAP_FAILED);
  ASSERT_EQ(::madvise(dont_fork, size, MADV_DONTFORK), 0);
  ASSERT_EQ(::madvise(wipe, size, MADV_WIPEONFORK), 0);
  for (size_t i = 0; i < 4; ++i) dont_fork[i * page] = 1;  // 4 resident anonymous pages

  auto regions = read_maps(::getpid(), true);
  const Region* a = region_containing(regions, reinterpret_cast<uint64_t>(dont_fork));
  const Region* b = region_containing(regions, reinterpret_cast<uint64_t>(wipe));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->start, reinterpret_cast<uint64_t>(dont_fork));
  EXPECT_EQ(a->end - a->start, size);
  EXPECT_TRUE(a->dont_fork);
  EXPECT_FALSE(a->wipe_on_fork);
  EXPECT_EQ(a->rss, 4 * page);
  EXPECT_EQ(a->anonymous, 4 * page);
  EXPECT_EQ(a->swap, 0u);
  EXPECT_TRUE(b->wipe_on_fork);
  EXPECT_FALSE(b->dont_fork);
  EXPECT_EQ(b->rss, 0u);
  ::munmap(dont_fork, size);
  ::munmap(wipe, size);
}

TEST(ProcfsTest, ParseMapsSurvivesOddInput) {
  const char* text =
      "garbage line\n"
      "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/with space (deleted)\n"
      "Rss:                   8 kB\n"
      "Swap: notanumber kB\n"
      "VmFlags: rd ex mr mw me dc wf dd hg io\n"
      // A bad header: the field lines after it must not land on the previous region.
      "00500000-0050zzzz r--p 0 0:0 0\n"
      "Rss:                 999 kB\n"
      "ffff-fff r--p 00000000 00:00 0\n"  // end < start
      "7fff0000-7fff1000 rw-s 00000000 00:00 0 \n"
      "7fff1000-7fff2000 rw-p 00000000 00:00 0      [anon:my heap]\n"
      "7fff2000-7fff3000 r\n"
      "AnonHugePages: 2048 kB";
  auto regions = parse_maps(text, true);
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_EQ(regions[0].start, 0x400000u);
  EXPECT_EQ(regions[0].end, 0x452000u);
  EXPECT_EQ(regions[0].dev_major, 8u);
  EXPECT_EQ(regions[0].dev_minor, 2u);
  EXPECT_EQ(regions[0].inode, 173521u);
  EXPECT_EQ(std::string_view(regions[0].path), "/usr/bin/with space (deleted)");
  EXPECT_EQ(regions[0].rss, 8192u);
  EXPECT_EQ(regions[0].swap, 0u);
  EXPECT_TRUE(regions[0].dont_fork && regions[0].wipe_on_fork && regions[0].dont_dump &&
              regions[0].huge_pages && regions[0].io);
  EXPECT_EQ(regions[1].type, RegionType::mapped);  // shared anonymous
  EXPECT_EQ(std::string_view(regions[1].path), "");
  EXPECT_EQ(regions[2].type, RegionType::private_);
  EXPECT_EQ(std::string_view(regions[2].path), "[anon:my heap]");
  EXPECT_EQ(regions[2].anon_huge, 0u);  // followed a header that did not parse
  EXPECT_TRUE(parse_maps("", true).empty());
  // The extents-only reader (the in-pause check) takes the same lines, less what it need not read.
  auto extents = parse_map_extents(text, std::pmr::get_default_resource());
  ASSERT_EQ(extents.size(), 3u);
  EXPECT_EQ(extents[0].start, 0x400000u);
  EXPECT_EQ(extents[0].end, 0x452000u);
  EXPECT_EQ(extents[1].prot, static_cast<uint32_t>(PROT_READ | PROT_WRITE));
  EXPECT_EQ(extents[2].start, 0x7fff1000u);
  EXPECT_TRUE(parse_map_extents("", std::pmr::get_default_resource()).empty());
}

TEST(ProcfsTest, MapExtentsAreTheMapsOwnExtents) {
  std::string text = read_text_file("/proc/self/maps");
  auto regions = parse_maps(text, false);
  auto extents = parse_map_extents(text, std::pmr::get_default_resource());
  ASSERT_EQ(extents.size(), regions.size());
  ASSERT_GT(extents.size(), 5u);
  for (size_t i = 0; i < extents.size(); ++i) {
    EXPECT_EQ(extents[i].start, regions[i].start);
    EXPECT_EQ(extents[i].end, regions[i].end);
    EXPECT_EQ(extents[i].prot, regions[i].prot);
  }
  auto live = read_map_extents(::getpid(), std::pmr::get_default_resource());
  EXPECT_GT(live.size(), 5u);
}

TEST(ProcfsTest, ProcessInfoOfSelf) {
  ProcessInfo info = read_process_info(::getpid());
  EXPECT_EQ(info.pid, ::getpid());
  EXPECT_EQ(info.parent_pid, ::getppid());
  EXPECT_EQ(std::string(info.image_path), self_exe());
  char comm[16] = {};
  ASSERT_EQ(::prctl(PR_GET_NAME, comm), 0);
  EXPECT_EQ(std::string_view(info.name), comm);
  EXPECT_NE(info.command_line.find(program_invocation_short_name), std::string::npos);
  EXPECT_EQ(info.thread_count, list_threads(::getpid()).size());
  EXPECT_EQ(info.uid, ::getuid());
  EXPECT_EQ(info.gid, ::getgid());
  EXPECT_GT(info.virtual_size, 0u);
  EXPECT_GE(info.peak_virtual_size, info.virtual_size);
  EXPECT_GT(info.working_set_size, 0u);
  EXPECT_GE(info.peak_working_set_size, info.working_set_size);
  EXPECT_GT(info.private_usage, 0u);
  EXPECT_GT(info.page_fault_count, 0u);
  EXPECT_NE(info.affinity_mask, 0u);
  uint64_t now = now_unix_ns();
  EXPECT_LE(info.create_time_unix_ns, now);
  EXPECT_GT(info.create_time_unix_ns, now - 3600ull * 1'000'000'000ull);
}

TEST(ProcfsTest, ProcessInfoOfChildWithParenthesesInName) {
  PausedChild child("a) b (c) d");
  ProcessInfo info = read_process_info(child.pid);
  EXPECT_EQ(info.pid, child.pid);
  EXPECT_EQ(info.parent_pid, ::getpid());
  EXPECT_EQ(std::string_view(info.name), "a) b (c) d");
  EXPECT_EQ(info.thread_count, 1u);
  EXPECT_EQ(std::string(info.image_path), self_exe());
  TaskStat stat;
  // The child signals readiness just before pause(), so it may still be running briefly.
  EXPECT_TRUE(eventually([&] {
    stat = read_task_stat(child.pid, child.pid);
    return stat.state == 'S';
  }));
  EXPECT_EQ(stat.nice, 0);
  EXPECT_EQ(stat.priority, 20);
  EXPECT_GE(stat.processor, 0);
  EXPECT_EQ(stat.start_time_unix_ns, info.create_time_unix_ns);
}

TEST(ProcfsTest, ThreadsNamesAndBlockedSyscall) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::atomic<pid_t> tid{0};
  std::thread reader([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    char byte;
    [[maybe_unused]] ssize_t n = ::read(fds[0], &byte, 1);
  });
  ASSERT_TRUE(eventually([&] { return tid.load() != 0; }));
  ASSERT_EQ(::pthread_setname_np(reader.native_handle(), "sd-reader"), 0);

  auto tids = list_threads(::getpid());
  EXPECT_TRUE(std::is_sorted(tids.begin(), tids.end()));
  EXPECT_NE(std::find(tids.begin(), tids.end(), tid.load()), tids.end());
  EXPECT_NE(std::find(tids.begin(), tids.end(), ::getpid()), tids.end());
  EXPECT_EQ(read_thread_name(::getpid(), tid), "sd-reader");

  SyscallState state;
  EXPECT_TRUE(eventually([&] {
    state = read_syscall(::getpid(), tid);
    return state.number == SYS_read;
  }));
  EXPECT_EQ(state.number, SYS_read);
  EXPECT_EQ(state.args[0], static_cast<uint64_t>(fds[0]));
  EXPECT_EQ(state.args[2], 1u);
  EXPECT_NE(state.stack_pointer, 0u);
  EXPECT_NE(state.instruction_pointer, 0u);
  EXPECT_EQ(read_task_stat(::getpid(), tid).state, 'S');

  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  reader.join();
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(ProcfsTest, SpinningThreadIsRunning) {
  std::atomic<bool> stop{false};
  std::atomic<pid_t> tid{0};
  std::thread spinner([&] {
    tid = static_cast<pid_t>(::syscall(SYS_gettid));
    while (!stop.load(std::memory_order_relaxed)) {
    }
  });
  ASSERT_TRUE(eventually([&] { return tid.load() != 0; }));
  SyscallState state;
  EXPECT_TRUE(eventually([&] {
    state = read_syscall(::getpid(), tid);
    return state.number == -1;
  }));
  EXPECT_EQ(state.number, -1);
  stop = true;
  spinner.join();
}

TEST(ProcfsTest, ParseSyscallFormats) {
  SyscallState running = parse_syscall("running\n");
  EXPECT_EQ(running.number, -1);
  EXPECT_EQ(running.stack_pointer, 0u);
  SyscallState blocked = parse_syscall("-1 0x7ffd1000 0x401000\n");
  EXPECT_EQ(blocked.number, -1);
  EXPECT_EQ(blocked.stack_pointer, 0x7ffd1000u);
  EXPECT_EQ(blocked.instruction_pointer, 0x401000u);
  SyscallState in_call =
      parse_syscall("230 0x0 0x1 0x7ffc 0x7ffd 0x0 0x0 0x7ffc07eff578 0x7f9fd5bea503\n");
  EXPECT_EQ(in_call.number, 230);
  EXPECT_EQ(in_call.args[1], 1u);
  EXPECT_EQ(in_call.args[3], 0x7ffdu);
  EXPECT_EQ(in_call.stack_pointer, 0x7ffc07eff578u);
  EXPECT_EQ(in_call.instruction_pointer, 0x7f9fd5bea503u);
  EXPECT_EQ(parse_syscall("").number, -2);
  EXPECT_EQ(parse_syscall("7 0x1 0x2").number, -2);
  EXPECT_EQ(parse_syscall("7 0xZZ 0x2 0x3 0x4 0x5 0x6 0x7 0x8").number, -2);
}

TEST(ProcfsTest, AffinityAuxvAndBootTime) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(::sched_getaffinity(0, sizeof set, &set), 0);
  uint64_t expected = 0;
  for (int cpu = 0; cpu < 64; ++cpu) {
    if (CPU_ISSET(cpu, &set)) expected |= uint64_t{1} << cpu;
  }
  EXPECT_EQ(read_affinity(static_cast<pid_t>(::syscall(SYS_gettid))), expected);

  auto auxv = read_auxv(::getpid());
  auto value_of = [&](uint64_t type) -> uint64_t {
    for (auto& [t, v] : auxv) {
      if (t == type) return v;
    }
    return 0;
  };
  EXPECT_EQ(value_of(AT_PAGESZ), ::getauxval(AT_PAGESZ));
  EXPECT_EQ(value_of(AT_ENTRY), ::getauxval(AT_ENTRY));
  EXPECT_EQ(value_of(AT_SYSINFO_EHDR), ::getauxval(AT_SYSINFO_EHDR));

  uint64_t boot = boot_time_unix_ns();
  EXPECT_GT(boot, 1'000'000'000ull * 1'000'000'000ull);  // after 2001
  EXPECT_LT(boot, now_unix_ns());
  EXPECT_EQ(boot % 1'000'000'000ull, 0u);
  EXPECT_EQ(boot_time_unix_ns(), boot);
}

TEST(ProcfsTest, ParsersSurviveRandomText) {
  // Mutations of real text: random bytes alone would rarely reach the deeper branches.
  std::string seed = read_text_file("/proc/self/smaps") + "running\n-1 0x1 0x2\n";
  std::mt19937 random(12345);
  const char alphabet[] = "0123456789abcdefx-: ()\n\t[]/rwxps";
  for (int round = 0; round < 200; ++round) {
    std::string text = seed.substr(random() % seed.size(), 4096);
    for (int i = 0; i < 40 && !text.empty(); ++i) {
      text[random() % text.size()] = alphabet[random() % (sizeof alphabet - 1)];
    }
    for (const Region& region : parse_maps(text, true)) EXPECT_LE(region.start, region.end);
    for (const MapExtent& e : parse_map_extents(text, std::pmr::get_default_resource())) EXPECT_LE(e.start, e.end);
    SyscallState state = parse_syscall(text);
    EXPECT_GE(state.number, -2);
  }
}

}  // namespace
}  // namespace snapdump::os

// linux/procfs.h same_memory_marks: the fallback of ForkHelper::shares_memory where kcmp is
// missing. A fork keeps the marks (the same program), a new program moves them.
namespace snapdump::os {
namespace {
TEST(SameMemoryMarks, AForkKeepsThemANewProgramMovesThem) {
  pid_t copy = fork();
  if (copy == 0) {
    for (;;) pause();
  }
  pid_t other = fork();
  if (other == 0) {
    execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Until the exec is done the child still shows this program's marks.
  for (int i = 0; i < 200 && same_memory_marks(getpid(), other); ++i) usleep(5000);
  EXPECT_TRUE(same_memory_marks(getpid(), copy));
  EXPECT_FALSE(same_memory_marks(getpid(), other));
  EXPECT_FALSE(same_memory_marks(getpid(), 999999999)) << "no such process";
  for (pid_t p : {copy, other}) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
}
}  // namespace
}  // namespace snapdump::os
