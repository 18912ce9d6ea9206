// Breakpad's LinuxDsoDebug stream: the dynamic linker's own list of loaded objects (r_debug and
// its link_map chain), which tools that turn a minidump back into a core file need. It is found
// the way a debugger finds it: the program headers from auxv's AT_PHDR, the main program's
// PT_DYNAMIC, its DT_DEBUG entry, which ld.so points at r_debug. Every step reads the process
// as captured and is bounded; a process without one (static, or not yet linked) gets no stream.
#include <elf.h>
#include <link.h>

#include <cstring>
#include <optional>
#include <string>

#include "linux/procfs.h"
#include "writer/streams.h"

namespace snapdump::writer {
namespace {

// No real process has more; a longer chain is a loop or garbage.
constexpr size_t kMaxObjects = 4096;
constexpr size_t kMaxDynamicEntries = 1024;
constexpr size_t kMaxName = 4096;

template <class T>
std::optional<T> read_as(WriteContext& ctx, uint64_t address) {
  T value;
  auto bytes = std::span<uint8_t>(reinterpret_cast<uint8_t*>(&value), sizeof value);
  if (ctx.reader.read(address, bytes, ReadPurpose::inspect) != sizeof value) return std::nullopt;
  return value;
}

std::string read_c_string(WriteContext& ctx, uint64_t address) {
  std::string out;
  char buf[256];
  while (address != 0 && out.size() < kMaxName) {
    size_t got = ctx.reader.read(address, std::span<uint8_t>(reinterpret_cast<uint8_t*>(buf), sizeof buf), ReadPurpose::inspect);
    if (got == 0) break;
    size_t len = strnlen(buf, got);
    out.append(buf, len);
    if (len < got) break;
    address += got;
  }
  return out;
}

struct Dynamic {
  uint64_t address = 0;
  std::vector<Elf64_Dyn> entries;
};

// The main program's dynamic section, through its program headers.
std::optional<Dynamic> main_dynamic(WriteContext& ctx) {
  std::string_view auxv = ctx.snapshot.process().auxv_raw;
  uint64_t phdr = os::auxv_value(auxv, AT_PHDR), phnum = os::auxv_value(auxv, AT_PHNUM);
  if (phdr == 0 || phnum == 0 || phnum > 256) return std::nullopt;
  std::optional<uint64_t> bias;
  std::optional<Elf64_Phdr> dynamic_header;
  for (uint64_t i = 0; i < phnum; ++i) {
    auto h = read_as<Elf64_Phdr>(ctx, phdr + i * sizeof(Elf64_Phdr));
    if (!h) return std::nullopt;
    if (h->p_type == PT_PHDR) bias = phdr - h->p_vaddr;
    if (h->p_type == PT_DYNAMIC) dynamic_header = *h;
  }
  if (!dynamic_header) return std::nullopt;  // a static program: no dynamic linker
  Dynamic d;
  d.address = bias.value_or(0) + dynamic_header->p_vaddr;
  size_t count = std::min<uint64_t>(dynamic_header->p_memsz / sizeof(Elf64_Dyn), kMaxDynamicEntries);
  for (size_t i = 0; i < count; ++i) {
    auto e = read_as<Elf64_Dyn>(ctx, d.address + i * sizeof(Elf64_Dyn));
    if (!e) break;
    d.entries.push_back(*e);
    if (e->d_tag == DT_NULL) break;
  }
  return d;
}

}  // namespace

void write_dso_debug(WriteContext& ctx) {
  std::optional<Dynamic> dynamic = main_dynamic(ctx);
  if (!dynamic) return;
  uint64_t r_debug_address = 0;
  for (const Elf64_Dyn& e : dynamic->entries) {
    if (e.d_tag == DT_DEBUG) r_debug_address = e.d_un.d_ptr;
  }
  if (r_debug_address == 0) return;  // ld.so has not filled it in
  auto debug = read_as<r_debug>(ctx, r_debug_address);
  if (!debug) return;

  std::vector<format::LinkMap64> maps;
  uint64_t next = reinterpret_cast<uint64_t>(debug->r_map);
  while (next != 0 && maps.size() < kMaxObjects) {
    auto m = read_as<link_map>(ctx, next);
    if (!m) break;
    format::LinkMap64 entry{};
    entry.addr = m->l_addr;
    entry.ld = reinterpret_cast<uint64_t>(m->l_ld);
    entry.name = ctx.builder.append_string(read_c_string(ctx, reinterpret_cast<uint64_t>(m->l_name)));
    maps.push_back(entry);
    next = reinterpret_cast<uint64_t>(m->l_next);
  }

  format::Debug64 d{};
  d.version = static_cast<uint32_t>(debug->r_version);
  d.map = maps.empty() ? 0 : ctx.builder.append(maps.data(), maps.size() * sizeof(format::LinkMap64), 8);
  d.dso_count = static_cast<uint32_t>(maps.size());
  d.brk = debug->r_brk;
  d.ldbase = debug->r_ldbase;
  d.dynamic = dynamic->address;
  uint32_t rva = ctx.builder.append(&d, sizeof d, 8);
  // As Breakpad writes it: the dynamic section's bytes follow the header in the stream.
  ctx.builder.append(dynamic->entries.data(), dynamic->entries.size() * sizeof(Elf64_Dyn), 1);
  ctx.builder.add_stream(format::StreamType::LinuxDsoDebug, rva,
                         static_cast<uint32_t>(sizeof d + dynamic->entries.size() * sizeof(Elf64_Dyn)));
}

}  // namespace snapdump::writer
