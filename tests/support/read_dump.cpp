#include "support/read_dump.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace snapdump::testing {
namespace {

std::string hex(uint64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << v;
  return s.str();
}

std::string describe(const reader::MemoryRange& r) {
  return std::string(r.from_memory64 ? "Memory64List" : "MemoryList") + " range [" + hex(r.address) + ", " +
         hex(r.address + r.bytes.size()) + ")";
}

}  // namespace

std::vector<std::string> memory_layout_violations(const reader::Minidump& dump) {
  std::vector<std::string> out;
  std::vector<reader::MemoryInfoView> entries = dump.memory_info();
  if (entries.empty()) return out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (e.size == 0) out.push_back("MemoryInfoList entry at " + hex(e.base) + " is empty");
    if (e.allocation_base > e.base) {
      out.push_back("MemoryInfoList entry at " + hex(e.base) + " lies before its AllocationBase " +
                    hex(e.allocation_base));
    }
    if (i > 0 && entries[i - 1].base + entries[i - 1].size > e.base) {
      out.push_back("MemoryInfoList entry at " + hex(e.base) + " is not after the one at " + hex(entries[i - 1].base));
    }
  }
  for (const reader::MemoryRange& r : dump.memory()) {
    const uint64_t lo = r.address, hi = r.address + r.bytes.size();
    // The entry the range starts in: the last one whose base is at or before it.
    auto it = std::upper_bound(entries.begin(), entries.end(), lo,
                               [](uint64_t a, const reader::MemoryInfoView& e) { return a < e.base; });
    if (it == entries.begin() || std::prev(it)->base + std::prev(it)->size <= lo) {
      out.push_back(describe(r) + " starts in memory no MemoryInfoList entry describes");
      continue;
    }
    --it;
    if (it->base != lo) {
      out.push_back(describe(r) + " starts inside the MemoryInfoList entry [" + hex(it->base) + ", " +
                    hex(it->base + it->size) + ")");
      continue;
    }
    // Through adjacent entries to the one it ends in.
    uint64_t at = it->base + it->size;
    while (at < hi && std::next(it) != entries.end() && std::next(it)->base == at) {
      ++it;
      at = it->base + it->size;
    }
    if (at < hi) {
      out.push_back(describe(r) + " runs past the described memory at " + hex(at));
    } else if (at > hi) {
      out.push_back(describe(r) + " ends inside the MemoryInfoList entry [" + hex(it->base) + ", " + hex(at) + ")");
    }
  }
  return out;
}

reader::Minidump read_dump(const std::string& path) {
  reader::Minidump dump = reader::Minidump::open(path);
  std::vector<std::string> violations = memory_layout_violations(dump);
  if (!violations.empty()) {
    std::string message = path + " breaks the memory-map rule (" + std::to_string(violations.size()) + " violations):";
    for (size_t i = 0; i < violations.size() && i < 20; ++i) message += "\n  " + violations[i];
    if (violations.size() > 20) message += "\n  ...";
    throw std::runtime_error(message);
  }
  return dump;
}

std::string memory_difference(const reader::Minidump& a, const reader::Minidump& b) {
  // The Memory64List's ranges, disjoint and in address order (the MemoryList's, which overlap
  // them, are made before the full-memory pass and do not depend on its order).
  auto full = [](const reader::Minidump& d) {
    std::vector<reader::MemoryRange> out;
    for (const auto& r : d.memory()) {
      if (r.from_memory64) out.push_back(r);
    }
    return out;
  };
  auto ma = full(a), mb = full(b);
  uint64_t total_a = 0, total_b = 0;
  for (const auto& r : ma) total_a += r.bytes.size();
  for (const auto& r : mb) total_b += r.bytes.size();
  if (total_a != total_b) return "the first holds " + std::to_string(total_a) + " bytes, the second " + std::to_string(total_b);
  size_t j = 0;
  for (const auto& r : ma) {
    for (uint64_t at = r.address; at < r.address + r.bytes.size();) {
      while (j < mb.size() && mb[j].address + mb[j].bytes.size() <= at) ++j;
      std::string where = hex(at);
      if (j == mb.size() || mb[j].address > at) return "the second has no byte at " + where;
      uint64_t end = std::min<uint64_t>(r.address + r.bytes.size(), mb[j].address + mb[j].bytes.size());
      if (std::memcmp(r.bytes.data() + (at - r.address), mb[j].bytes.data() + (at - mb[j].address), end - at) != 0) {
        return "the bytes differ in the range from " + where;
      }
      at = end;
    }
  }
  return "";
}

}  // namespace snapdump::testing
