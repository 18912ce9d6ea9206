#include "dump_report.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "hex.h"

#include "format/constants.h"

namespace snapdump::cli {
namespace {

const char* memory_type(uint32_t type) {
  switch (type) {
    case format::mem::kImage: return "image";
    case format::mem::kMapped: return "mapped";
    case format::mem::kPrivate: return "private";
    default: return "?";
  }
}

}  // namespace

void print_dump(std::FILE* out, const reader::Minidump& d) {
  fmt::print(out, "Streams ({}):", d.streams().size());
  for (const auto& s : d.streams()) fmt::print(out, " {}", s.name);
  fmt::print(out, "\n");
  if (auto sys = d.system_info()) {
    fmt::print(out, "System: {} CPUs ({}), {}\n", sys->processors, sys->vendor, sys->csd_version);
  }
  if (auto misc = d.misc_info(); misc && misc->pid) {
    fmt::print(out, "Process: {}", *misc->pid);
    if (misc->user_time) fmt::print(out, ", {} s user, {} s kernel", *misc->user_time, misc->kernel_time.value_or(0));
    fmt::print(out, "\n");
  }
  auto threads = d.threads();
  fmt::print(out, "\nThreads ({}):\n", threads.size());
  for (const auto& t : threads) {
    fmt::print(out, "  {:>7}  {:<16}", t.tid, t.name);
    if (t.context) fmt::print(out, " rip {:#014x} rsp {:#014x}", t.context->rip, t.context->rsp);
    fmt::print(out, "  stack {} B\n", t.stack.size());
  }
  auto modules = d.modules();
  fmt::print(out, "\nModules ({}):\n", modules.size());
  for (const auto& m : modules) {
    fmt::print(out, "  {:#014x} {:>9} KiB  {:<40}  {}\n", m.base, m.size / 1024,
               m.build_id.empty() ? std::string("(no build-id)") : to_hex(m.build_id), m.name);
  }
  auto memory = d.memory();
  uint64_t bytes = 0;
  for (const auto& r : memory) bytes += r.bytes.size();
  fmt::print(out, "\nMemory: {} ranges, {:.1f} KiB\n", memory.size(), bytes / 1024.0);
  auto info = d.memory_info();
  if (!info.empty()) {
    fmt::print(out, "Memory map ({} regions):\n", info.size());
    for (const auto& i : info) {
      fmt::print(out, "  {:#014x}-{:#014x} protect {:#05x} {}\n", i.base, i.base + i.size, i.protect,
                 memory_type(i.type));
    }
  }
  auto handles = d.handles();
  if (!handles.empty()) {
    fmt::print(out, "\nHandles ({}):\n", handles.size());
    for (const auto& h : handles) fmt::print(out, "  fd {:>4}  {:<10} {}\n", h.handle, h.type_name, h.object_name);
  }
  if (!d.problems().empty()) {
    fmt::print(out, "\nProblems ({}):\n", d.problems().size());
    for (const auto& p : d.problems()) fmt::print(out, "  {}\n", p);
  }
}

}  // namespace snapdump::cli
