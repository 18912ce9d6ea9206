#include "target_sweep.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "target_json.h"

namespace sdtarget {
namespace {

constexpr std::size_t kPage = 4096;
std::uint8_t* g_region = nullptr;
std::size_t g_pages = 0;
std::uint64_t g_round = 1;

}  // namespace

nlohmann::json create_sweep(std::size_t mib) {
  g_pages = (mib << 20) / kPage;
  void* p = mmap(nullptr, g_pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap (--sweep-mib)");
    std::exit(2);
  }
  g_region = static_cast<std::uint8_t*>(p);
  // 4 KiB pages: a trail page by page, as the kernel reports it.
  madvise(g_region, g_pages * kPage, MADV_NOHUGEPAGE);
  for (std::size_t i = 0; i < g_pages; ++i) g_region[i * kPage] = 1;
  return {{"addr", hex(p)}, {"size", hex(g_pages * kPage)}};
}

nlohmann::json run_sweep(const std::string& args) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(args.c_str(), &end, 10);
  unsigned long long from = 0;
  if (*end == ' ') from = std::strtoull(end + 1, &end, 10);
  if (g_region == nullptr) return {{"error", "no --sweep-mib region"}};
  if (args.empty() || *end != '\0' || from > g_pages || n > g_pages - from) {
    return {{"error", "sweep N [FROM]: N pages of the region, from page FROM"}};
  }
  ++g_round;
  for (std::size_t i = from; i < from + n; ++i) *reinterpret_cast<volatile std::uint64_t*>(g_region + i * kPage) = g_round;
  return {{"ok", true}, {"end", hex(g_region + (from + n) * kPage)}};
}

}  // namespace sdtarget
