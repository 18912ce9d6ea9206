#include "view/minidump_link_map.h"

#include <elf.h>
#include <sys/mman.h>

#include <cstring>

namespace snapdump::view {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kUserTop = uint64_t{1} << 47;
constexpr uint64_t kLowest = 0x10000;  // vm.mmap_min_addr's usual value: nothing maps below it

struct RDebug {  // struct r_debug (glibc, 64-bit)
  int32_t version, pad0;
  uint64_t map, brk;
  int32_t state, pad1;
  uint64_t ldbase;
};
static_assert(sizeof(RDebug) == 40);

struct LinkMap {  // the public head of struct link_map
  uint64_t addr, name, ld, next, prev;
};
static_assert(sizeof(LinkMap) == 40);

// The lowest page-aligned range of `size` bytes no mapping touches.
std::optional<uint64_t> free_range(std::span<const Mapping> mappings, uint64_t size) {
  uint64_t at = kLowest;
  for (const Mapping& m : mappings) {
    if (m.start >= at + size) return at;
    at = std::max(at, (m.end + kPage - 1) & ~(kPage - 1));
  }
  if (at + size <= kUserTop) return at;
  return std::nullopt;
}

template <class T>
void put_at(std::vector<uint8_t>& out, size_t offset, const T& value) {
  std::memcpy(out.data() + offset, &value, sizeof value);
}

}  // namespace

std::optional<RebuiltLinkMap> rebuild_link_map(const reader::DsoDebugView& debug, std::span<const Mapping> mappings) {
  if (debug.objects.empty() || debug.dynamic == 0 || debug.dynamic_section.size() < sizeof(Elf64_Dyn)) return std::nullopt;
  // The layout: r_debug, the link_maps, then the names with their NULs.
  size_t names_at = sizeof(RDebug) + debug.objects.size() * sizeof(LinkMap);
  size_t size = names_at;
  for (const auto& o : debug.objects) size += o.name.size() + 1;
  uint64_t span = (size + kPage - 1) & ~(kPage - 1);
  std::optional<uint64_t> base = free_range(mappings, span);
  if (!base) return std::nullopt;

  RebuiltLinkMap out;
  out.dynamic.address = debug.dynamic;
  out.dynamic.bytes.assign(debug.dynamic_section.begin(), debug.dynamic_section.end());
  bool patched = false;
  for (size_t at = 0; at + sizeof(Elf64_Dyn) <= out.dynamic.bytes.size(); at += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d;
    std::memcpy(&d, out.dynamic.bytes.data() + at, sizeof d);
    if (d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_DEBUG) {
      d.d_un.d_ptr = *base;
      put_at(out.dynamic.bytes, at, d);
      patched = true;
    }
  }
  if (!patched) return std::nullopt;

  out.list.address = *base;
  out.list.bytes.assign(size, 0);
  RDebug r{};
  r.version = static_cast<int32_t>(debug.version == 0 ? 1 : debug.version);
  r.map = *base + sizeof(RDebug);
  r.brk = debug.brk;
  r.state = 0;  // RT_CONSISTENT
  r.ldbase = debug.ldbase;
  put_at(out.list.bytes, 0, r);
  uint64_t name_at = *base + names_at;
  for (size_t i = 0; i < debug.objects.size(); ++i) {
    const auto& o = debug.objects[i];
    uint64_t self = *base + sizeof(RDebug) + i * sizeof(LinkMap);
    LinkMap l{o.addr, name_at, o.ld, i + 1 < debug.objects.size() ? self + sizeof(LinkMap) : 0, i > 0 ? self - sizeof(LinkMap) : 0};
    put_at(out.list.bytes, sizeof(RDebug) + i * sizeof(LinkMap), l);
    std::memcpy(out.list.bytes.data() + (name_at - *base), o.name.data(), o.name.size());
    name_at += o.name.size() + 1;
  }
  out.list_mapping.start = *base;
  out.list_mapping.end = *base + span;
  out.list_mapping.prot = PROT_READ;
  return out;
}

}  // namespace snapdump::view
