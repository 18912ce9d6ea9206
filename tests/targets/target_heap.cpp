#include "target_heap.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>

#include "target_json.h"

namespace sdtarget {
namespace {

constexpr std::size_t kHugePage = 2 * 1024 * 1024;
std::uint64_t* g_heap = nullptr;
std::size_t g_size = 0;
bool g_thp = false;
bool g_inverted = false;

// Over-maps by one huge page and trims both ends, which is how anonymous memory gets an
// alignment mmap itself cannot promise.
void* map_aligned(std::size_t size) {
  void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
  if (raw == MAP_FAILED) return raw;
  auto start = reinterpret_cast<std::uintptr_t>(raw);
  auto aligned = (start + kHugePage - 1) & ~(kHugePage - 1);
  if (aligned > start) munmap(raw, aligned - start);
  std::uintptr_t tail = start + size + kHugePage - (aligned + size);
  if (tail > 0) munmap(reinterpret_cast<void*>(aligned + size), tail);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

void create_heap(std::size_t mib, bool thp) {
  g_size = mib * 1024 * 1024;
  g_thp = thp;
  if (g_size == 0) return;
  void* memory = thp ? map_aligned(g_size)
                     : mmap(nullptr, g_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
  if (memory == MAP_FAILED) {
    std::fprintf(stderr, "snapdump_target: heap mmap of %zu MiB: %s\n", mib, std::strerror(errno));
    std::exit(1);
  }
  // Advice is best effort: a kernel without THP still gets a correct, just slower, heap.
  if (thp) madvise(memory, g_size, MADV_HUGEPAGE);
  g_heap = static_cast<std::uint64_t*>(memory);
  fill_heap(false);
}

void fill_heap(bool inverted) {
  const std::uint64_t mask = inverted ? ~std::uint64_t{0} : 0;
  const std::size_t words = g_size / sizeof(std::uint64_t);
  for (std::size_t i = 0; i < words; ++i) g_heap[i] = (kHeapTag | i) ^ mask;
  g_inverted = inverted;
}

nlohmann::json heap_json() {
  return {{"addr", hex(g_heap)},
          {"size", g_size},
          {"thp", g_thp},
          {"inverted", g_inverted},
          {"pattern", "word at byte offset o = 0x5eed000000000000 | (o / 8)"}};
}

}  // namespace sdtarget
