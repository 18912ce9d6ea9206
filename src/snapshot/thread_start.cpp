#include "snapshot/thread_start.h"

#include <elf.h>

#include <array>
#include <cstring>
#include <optional>
#include <span>

#include "linux/elf_identity.h"
#include "linux/process_memory.h"
#include "linux/procfs.h"

namespace snapdump::detail {
namespace {

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

template <class T>
std::optional<T> read_as(pid_t pid, uint64_t address) {
  T value;
  auto bytes = std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof value);
  if (os::read_process_memory(pid, address, bytes) != sizeof value) return std::nullopt;
  return value;
}

// The offset of struct pthread's start_routine, from the descriptor libc publishes.
std::optional<uint32_t> start_routine_offset(pid_t pid, std::span<const Region> regions,
                                             std::pmr::memory_resource* scratch) {
  for (const Region& r : regions) {
    // glibc 2.34 and later: libc.so.6; before, the descriptor lived in libpthread.so.0.
    if (!r.elf || !(ends_with(r.path, "/libc.so.6") || ends_with(r.path, "/libpthread.so.0"))) continue;
    auto offset = os::module_symbol_offset(pid, r, "_thread_db_pthread_start_routine", scratch);
    if (!offset) continue;
    auto desc = read_as<std::array<uint32_t, 3>>(pid, r.elf->load_address + *offset);
    // A pointer-sized field, one element, inside the control block.
    if (desc && (*desc)[0] == 64 && (*desc)[1] == 1 && (*desc)[2] < 65536) return (*desc)[2];
  }
  return std::nullopt;
}

}  // namespace

void attach_thread_starts(pid_t pid, std::span<const Region> regions, std::string_view auxv,
                          std::span<ThreadEntry> threads, std::pmr::memory_resource* scratch) {
  std::optional<uint32_t> field;
  bool looked = false;
  for (ThreadEntry& t : threads) {
    if (t.tid == pid) {
      t.start_address = os::auxv_value(auxv, AT_ENTRY);
      continue;
    }
    if (t.capture != ThreadCapture::stopped || t.regs.fs_base == 0) continue;
    if (!looked) {
      field = start_routine_offset(pid, regions, scratch);
      looked = true;
    }
    if (!field) return;
    t.start_address = read_as<uint64_t>(pid, t.regs.fs_base + *field).value_or(0);
  }
}

}  // namespace snapdump::detail
