#include "writer/view_minidump/view_streams.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/ranges.h"
#include "snapdump/error.h"
#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "writer/context_amd64.h"
#include "writer/memory_info_list.h"
#include "writer/windows_terms.h"
#include "writer/xstate_context.h"

namespace snapdump::writer::view_minidump {
namespace {

constexpr uint64_t kRedZone = 128;  // the System V ABI's: leaf functions keep data below rsp

bool dumpable(const view::Mapping& m) { return (m.prot & PROT_READ) && !m.io && !m.dont_dump && m.end > m.start; }

const view::Mapping* mapping_at(const view::ProcessView& view, uint64_t address) {
  auto maps = view.mappings();
  auto it = std::upper_bound(maps.begin(), maps.end(), address, [](uint64_t a, const view::Mapping& m) { return a < m.end; });
  return it != maps.end() && it->start <= address ? &*it : nullptr;
}

const view::Module* module_at(const view::ProcessView& view, uint64_t address) {
  for (const view::Module& m : view.modules()) {
    if (address >= m.base && address - m.base < m.size) return &m;
  }
  return nullptr;
}

void add_text(DumpBuilder& builder, format::StreamType type, std::string_view text) {
  if (text.empty()) return;
  uint32_t rva = builder.append(text.data(), text.size());
  builder.add_stream(type, rva, static_cast<uint32_t>(text.size()));
}

}  // namespace

void read_held(const view::ProcessView& view, uint64_t address, std::span<uint8_t> out) {
  size_t got = view.read_memory(address, out);
  if (got != out.size()) {
    throw Error(Errc::io_error, fmt::format("the memory at {:#x} ({} bytes) that the source holds could not be read",
                                            address + got, out.size() - got));
  }
}

Ranges held_memory(const view::ProcessView& view) {
  Ranges out;
  for (const view::Mapping& m : view.mappings()) {
    if (!dumpable(m)) continue;
    if (auto runs = view.held(m.start, m.end)) {
      for (auto [lo, hi] : *runs) {
        lo = std::max(lo, m.start), hi = std::min(hi, m.end);
        if (lo < hi) out.emplace_back(lo, hi);
      }
    } else {
      out.emplace_back(m.start, m.end);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint32_t ViewStreams::context_rva_of(pid_t tid) const {
  for (const auto& [t, rva] : contexts) {
    if (t == tid) return rva;
  }
  return 0;
}

void add_system_info(ViewStreams& s) {
  format::SystemInfo info{};
  info.processor_architecture = format::kArchitectureAmd64;
  // A view says nothing of the CPU or kernel its process ran on: those fields stay 0 rather
  // than describe the machine that converts. One processor at least, as readers expect.
  info.number_of_processors = 1;
  info.platform_id = format::kPlatformLinux;
  // Readers that do not know PlatformId 0x8201 look for "Linux" here (LLDB does).
  info.csd_version_rva = s.builder.append_string("Linux");
  uint32_t rva = s.builder.append(info);
  s.builder.add_stream(format::StreamType::SystemInfo, rva, sizeof info);
}

void add_misc_info(ViewStreams& s) {
  const view::ProcessSummary& p = s.view.process();
  format::MiscInfo5 m{};
  m.size_of_info = format::kMiscInfo5Size;
  if (p.pid > 0) {
    m.flags1 |= format::misc::kProcessId;
    m.process_id = static_cast<uint32_t>(p.pid);
  }
  if (p.user_time_ns || p.kernel_time_ns) {
    m.flags1 |= format::misc::kProcessTimes;
    m.process_user_time = static_cast<uint32_t>(p.user_time_ns / 1'000'000'000u);
    m.process_kernel_time = static_cast<uint32_t>(p.kernel_time_ns / 1'000'000'000u);
  }
  for (const view::ThreadState* t : s.threads) {
    if (auto config = xstate_config(std::span<const uint8_t>(t->xsave))) {
      m.xstate_data = *config;
      break;
    }
  }
  uint32_t rva = s.builder.append(m);
  s.builder.add_stream(format::StreamType::MiscInfo, rva, sizeof m);
}

void add_stack_memory(ViewStreams& s, uint64_t max_stack_bytes) {
  // Each stack is the held run holding the stack pointer, from below the red zone up to the
  // bound; overlapping stacks (threads on one stack, as a signal's alternate stack can make) are
  // merged, because readers take a MemoryList's ranges to be disjoint.
  Ranges wanted;
  for (const view::ThreadState* t : s.threads) {
    uint64_t sp = t->regs.rsp;
    const view::Mapping* m = sp ? mapping_at(s.view, sp) : nullptr;
    if (!m || !dumpable(*m)) continue;
    auto runs = s.view.held(m->start, m->end);
    uint64_t lo = std::max(m->start, sp - std::min(sp, kRedZone)), hi = m->end;
    if (runs) {
      auto run = std::find_if(runs->begin(), runs->end(), [&](const auto& r) { return r.first <= sp && sp < r.second; });
      if (run == runs->end()) continue;
      lo = std::max(lo, run->first), hi = std::min(hi, run->second);
    }
    hi = std::min(hi, lo + max_stack_bytes);
    if (lo < hi) wanted.emplace_back(lo, hi);
  }
  merge_ranges(wanted);
  std::vector<format::MemoryDescriptor> descriptors;
  for (const auto& [lo, hi] : wanted) {
    std::vector<uint8_t> bytes(hi - lo);
    read_held(s.view, lo, bytes);
    uint32_t rva = s.builder.append(bytes.data(), bytes.size(), 16);
    s.stacks.push_back({lo, hi, rva});
    descriptors.push_back({lo, {static_cast<uint32_t>(hi - lo), rva}});
  }
  s.builder.add_list_stream(format::StreamType::MemoryList, descriptors);
}

void add_thread_list(ViewStreams& s) {
  std::vector<format::Thread> entries;
  for (const view::ThreadState* t : s.threads) {
    format::Thread e{};
    e.thread_id = static_cast<uint32_t>(t->tid);
    e.teb = t->regs.fs_base;  // the thread's TLS block: Linux's closest thing to a TEB (MinidumpView reads it back)
    uint64_t sp = t->regs.rsp >= kRedZone ? t->regs.rsp - kRedZone : 0;
    e.stack.start_of_memory_range = sp;
    for (const CopiedStack& c : s.stacks) {
      if (t->regs.rsp < c.start || t->regs.rsp >= c.end) continue;
      uint64_t start = std::max(sp, c.start);
      e.stack = {start, {static_cast<uint32_t>(c.end - start), static_cast<uint32_t>(c.rva + (start - c.start))}};
    }
    format::ContextAmd64 c = registers_context(t->regs, t->fpregs ? &*t->fpregs : nullptr);
    if (auto extended = xstate_context(std::span<const uint8_t>(t->xsave), c)) {
      e.thread_context = {static_cast<uint32_t>(extended->size()), s.builder.append(extended->data(), extended->size(), 64)};
    } else {
      e.thread_context = {sizeof c, s.builder.append(&c, sizeof c, 16)};
    }
    s.contexts.emplace_back(t->tid, e.thread_context.rva);
    entries.push_back(e);
  }
  s.builder.add_list_stream(format::StreamType::ThreadList, entries);
}

void add_thread_names(ViewStreams& s) {
  std::vector<format::ThreadName> names;
  for (const view::ThreadState* t : s.threads) {
    if (!t->name.empty()) names.push_back({static_cast<uint32_t>(t->tid), s.builder.append_string(t->name)});
  }
  if (!names.empty()) s.builder.add_list_stream(format::StreamType::ThreadNames, names);
}

void add_module_list(ViewStreams& s) {
  std::vector<format::Module> modules;
  for (const view::Module& m : s.view.modules()) {
    format::Module e{};
    e.base_of_image = m.base;
    e.size_of_image = static_cast<uint32_t>(std::min<uint64_t>(m.size, UINT32_MAX));
    e.module_name_rva = s.builder.append_string(m.path);
    std::vector<uint8_t> cv = elf_cv_record(m.build_id);
    if (!cv.empty()) e.cv_record = {static_cast<uint32_t>(cv.size()), s.builder.append(cv.data(), cv.size())};
    modules.push_back(e);
  }
  s.builder.add_list_stream(format::StreamType::ModuleList, modules);
}

void add_memory_info_list(ViewStreams& s) {
  std::vector<VmRegionInfo> regions;
  for (const view::Mapping& m : s.view.mappings()) {
    VmRegionInfo i;
    const view::Module* module = module_at(s.view, m.start);
    i.base = m.start;
    // A module's mappings share one allocation base, as the sections of a Windows image do.
    i.allocation_base = module ? module->base : m.start;
    i.size = m.end - m.start;
    i.state = format::mem::kCommit;
    i.protect = page_protection(m.prot, m.shared, m.path);
    i.allocation_protect = i.protect;
    i.type = module ? format::mem::kImage : (!m.path.empty() && m.path[0] == '/') ? format::mem::kMapped : format::mem::kPrivate;
    regions.push_back(i);
  }
  // Every range of both memory lists begins and ends an entry (memory_info_list.h says why).
  Ranges edges = s.memory64;
  for (const CopiedStack& c : s.stacks) edges.emplace_back(c.start, c.end);
  std::vector<VmRegionInfo> pieces = split_at_held_edges(regions, edges);
  std::vector<format::MemoryInfo> entries = memory_info_entries(pieces);
  format::MemoryInfoListHeader h{sizeof h, sizeof(format::MemoryInfo), entries.size()};
  uint32_t rva = s.builder.append(h);
  s.builder.append(entries.data(), entries.size() * sizeof(format::MemoryInfo));
  s.builder.add_stream(format::StreamType::MemoryInfoList, rva, static_cast<uint32_t>(sizeof h + entries.size() * sizeof(format::MemoryInfo)));
}

void add_exception(ViewStreams& s) {
  if (!s.signal) return;
  const view::Signal& sig = *s.signal;
  uint32_t context_rva = s.context_rva_of(sig.thread);
  const view::ThreadState* thread = nullptr;
  for (const view::ThreadState* t : s.threads) {
    if (t->tid == sig.thread) thread = t;
  }
  if (thread == nullptr) return;  // the caller checked: the signal's thread has registers
  format::ExceptionStream e{};
  e.thread_id = static_cast<uint32_t>(sig.thread);
  // Breakpad's Linux convention, which snapdump's own dumps follow: the signal number as the
  // code, si_code as the flags, the fault address (or rip) as the address.
  e.exception_record.exception_code = static_cast<uint32_t>(sig.signo);
  e.exception_record.exception_flags = static_cast<uint32_t>(sig.code);
  e.exception_record.exception_address = sig.address != 0 ? sig.address : thread->regs.rip;
  format::ContextAmd64 c = registers_context(thread->regs, thread->fpregs ? &*thread->fpregs : nullptr);
  e.thread_context = context_rva ? format::LocationDescriptor{sizeof c, context_rva}
                                 : format::LocationDescriptor{sizeof c, s.builder.append(&c, sizeof c, 16)};
  uint32_t rva = s.builder.append(e);
  s.builder.add_stream(format::StreamType::Exception, rva, sizeof e);
}

void add_linux_streams(ViewStreams& s) {
  const view::ProcessSummary& p = s.view.process();
  // /proc/PID/maps as the view describes the mappings: Breakpad and LLDB find modules and
  // regions in it. A view that does not know whether a mapping was shared says private.
  std::string maps;
  for (const view::Mapping& m : s.view.mappings()) {
    maps += fmt::format("{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {}", m.start, m.end, (m.prot & PROT_READ) ? 'r' : '-',
                        (m.prot & PROT_WRITE) ? 'w' : '-', (m.prot & PROT_EXEC) ? 'x' : '-', m.shared ? 's' : 'p',
                        m.file_offset, m.dev_major, m.dev_minor, m.inode);
    if (!m.path.empty()) maps += "    " + m.path;
    maps += '\n';
  }
  add_text(s.builder, format::StreamType::LinuxMaps, maps);
  // The fields of /proc/PID/status the view knows, in its format: LLDB takes the PID from it.
  if (p.pid > 0) {
    std::string status = fmt::format("Name:\t{}\n", p.name);
    if (p.state) status += fmt::format("State:\t{}\n", p.state);
    status += fmt::format("Tgid:\t{0}\nPid:\t{0}\nPPid:\t{1}\n", p.pid, p.parent_pid);
    status += fmt::format("Uid:\t{0}\t{0}\t{0}\t{0}\nGid:\t{1}\t{1}\t{1}\t{1}\n", p.uid, p.gid);
    status += fmt::format("Threads:\t{}\n", s.view.threads().size());
    add_text(s.builder, format::StreamType::LinuxProcStatus, status);
  }
  add_text(s.builder, format::StreamType::LinuxCmdLine, p.command_line);
  add_text(s.builder, format::StreamType::LinuxAuxv,
           std::string_view(reinterpret_cast<const char*>(p.auxv.data()), p.auxv.size()));
}

}  // namespace snapdump::writer::view_minidump
