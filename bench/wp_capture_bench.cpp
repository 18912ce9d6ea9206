// Issue 13's experiment: would a userfaultfd write-protect capture pause a target less than the
// fork a VA clone takes, and tax it less for each page it writes afterwards?
//
// Everything is measured in this one process, on its own anonymous memory of 4 KiB pages,
// in the same run:
//   fork      a bare fork() of this process (what a VA clone costs the target in the pause)
//   wp        registering the memory with userfaultfd and write-protecting it (what a
//             write-protect capture would cost in the pause, before any injection overhead)
//   cow/page  the first write to a page while a forked child still shares it (the kernel's
//             copy-on-write fault, the clone's tax on the target)
//   wp/page   the first write to a write-protected page, resolved as a capture would: a
//             handler thread saves the page's 4 KiB, then lifts the protection of that page
// Decision rule of the issue: land the mode only if wp <= fork / 4 at 4 GiB and wp/page <=
// 4 x cow/page. Both figures are medians of --repeat rounds.
//
//   build/bench/wp_capture_bench [--sizes 256,1024,4096] [--pages 20000] [--repeat 5]
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"

namespace {

using snapdump::bench::median;
using snapdump::bench::parse_list;

constexpr size_t kPage = 4096;

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "wp_capture_bench: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

struct Memory {
  uint8_t* base;
  size_t size;
};

Memory make_memory(size_t mib) {
  size_t size = mib << 20;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  madvise(p, size, MADV_NOHUGEPAGE);  // 4 KiB pages, as the heaps
  std::memset(p, 0x5a, size);
  return {static_cast<uint8_t*>(p), size};
}

std::vector<size_t> random_pages(const Memory& m, size_t count, unsigned seed) {
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<size_t> pick(0, m.size / kPage - 1);
  std::vector<size_t> pages(count);
  for (size_t& p : pages) p = pick(random);
  std::sort(pages.begin(), pages.end());
  pages.erase(std::unique(pages.begin(), pages.end()), pages.end());
  std::shuffle(pages.begin(), pages.end(), random);
  return pages;
}

double bare_fork_ms() {
  double t = now_ms();
  pid_t child = fork();
  if (child == 0) _exit(0);
  double ms = now_ms() - t;
  waitpid(child, nullptr, 0);
  return ms;
}

// Microseconds per first write while a forked child shares every page.
double cow_us_per_page(Memory& m, const std::vector<size_t>& pages) {
  int go[2];
  if (pipe(go) != 0) die("pipe");
  pid_t child = fork();
  if (child == 0) {
    char c;
    (void)!read(go[0], &c, 1);  // holds the pages until the parent is done
    _exit(0);
  }
  double t = now_ms();
  for (size_t p : pages) m.base[p * kPage] ^= 1;
  double us = (now_ms() - t) * 1e3 / static_cast<double>(pages.size());
  (void)!write(go[1], "x", 1);
  waitpid(child, nullptr, 0);
  close(go[0]);
  close(go[1]);
  return us;
}

struct WpResult {
  double protect_ms;
  double us_per_page;
};

WpResult write_protect(Memory& m, const std::vector<size_t>& pages) {
  int uffd = static_cast<int>(syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (uffd < 0) die("userfaultfd (needs CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1)");
  uffdio_api api{UFFD_API, UFFD_FEATURE_PAGEFAULT_FLAG_WP, 0};
  if (ioctl(uffd, UFFDIO_API, &api) != 0) die("UFFDIO_API");
  double t = now_ms();
  uffdio_register reg{{reinterpret_cast<uint64_t>(m.base), m.size}, UFFDIO_REGISTER_MODE_WP, 0};
  if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) die("UFFDIO_REGISTER");
  uffdio_writeprotect wp{{reinterpret_cast<uint64_t>(m.base), m.size}, UFFDIO_WRITEPROTECT_MODE_WP};
  if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0) die("UFFDIO_WRITEPROTECT");
  double protect_ms = now_ms() - t;

  // The handler saves each page before its first write goes through, as a capture would.
  std::vector<uint8_t> saved(pages.size() * kPage);
  std::atomic<bool> stop{false};
  std::atomic<size_t> handled{0};
  std::thread handler([&] {
    size_t next = 0;
    while (!stop) {
      pollfd p{uffd, POLLIN, 0};
      if (poll(&p, 1, 10) <= 0) continue;
      uffd_msg msg{};
      while (read(uffd, &msg, sizeof msg) == static_cast<ssize_t>(sizeof msg)) {
        if (msg.event != UFFD_EVENT_PAGEFAULT || !(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP)) continue;
        uint64_t page = msg.arg.pagefault.address & ~(kPage - 1);
        std::memcpy(&saved[(next++ % pages.size()) * kPage], reinterpret_cast<void*>(page), kPage);
        uffdio_writeprotect lift{{page, kPage}, 0};
        if (ioctl(uffd, UFFDIO_WRITEPROTECT, &lift) != 0) die("UFFDIO_WRITEPROTECT (lift)");
        handled.fetch_add(1);
      }
    }
  });
  t = now_ms();
  for (size_t p : pages) m.base[p * kPage] ^= 1;
  double us = (now_ms() - t) * 1e3 / static_cast<double>(pages.size());
  stop = true;
  handler.join();
  uffdio_range all{reinterpret_cast<uint64_t>(m.base), m.size};
  ioctl(uffd, UFFDIO_UNREGISTER, &all);
  close(uffd);
  if (handled.load() < pages.size()) {
    std::fprintf(stderr, "wp_capture_bench: only %zu of %zu writes faulted\n", handled.load(), pages.size());
  }
  return {protect_ms, us};
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {256, 1024, 4096};
  size_t page_count = 20000;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--sizes") sizes = parse_list(argv[i + 1]);
    else if (flag == "--pages") page_count = static_cast<size_t>(std::atol(argv[i + 1]));
    else if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: wp_capture_bench [--sizes 256,1024,4096] [--pages N] [--repeat N]\n");
      return 2;
    }
  }
  std::printf("| heap | fork ms | write-protect ms | wp / fork | cow us/page | wp us/page | wp / cow |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int mib : sizes) {
    Memory m = make_memory(static_cast<size_t>(mib));
    std::vector<double> fork_ms, wp_ms, cow_us, wp_us;
    for (int r = 0; r < repeat; ++r) {
      auto pages = random_pages(m, page_count, static_cast<unsigned>(r + 1));
      fork_ms.push_back(bare_fork_ms());
      cow_us.push_back(cow_us_per_page(m, pages));
      WpResult w = write_protect(m, pages);
      wp_ms.push_back(w.protect_ms);
      wp_us.push_back(w.us_per_page);
    }
    double f = median(fork_ms), w = median(wp_ms), c = median(cow_us), p = median(wp_us);
    std::printf("| %d MiB | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n", mib, f, w, w / f, c, p, p / c);
    munmap(m.base, m.size);
  }
  return 0;
}
