#include "view/minidump_view.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "common/ranges.h"
#include "linux/procfs.h"
#include "snapdump/format/constants.h"
#include "view/status_text.h"

namespace snapdump::view {
namespace {

uint32_t prot_of(uint32_t protect) {
  namespace page = format::page;
  switch (protect & 0xff) {
    case page::kReadOnly: return PROT_READ;
    case page::kReadWrite: case page::kWriteCopy: return PROT_READ | PROT_WRITE;
    case page::kExecute: return PROT_EXEC;
    case page::kExecuteRead: return PROT_READ | PROT_EXEC;
    case page::kExecuteReadWrite: case page::kExecuteWriteCopy: return PROT_READ | PROT_WRITE | PROT_EXEC;
    default: return 0;
  }
}

user_regs_struct regs_of(const format::ContextAmd64& c, uint64_t teb) {
  user_regs_struct r{};
  r.rax = c.rax, r.rbx = c.rbx, r.rcx = c.rcx, r.rdx = c.rdx;
  r.rsi = c.rsi, r.rdi = c.rdi, r.rbp = c.rbp, r.rsp = c.rsp;
  r.r8 = c.r8, r.r9 = c.r9, r.r10 = c.r10, r.r11 = c.r11;
  r.r12 = c.r12, r.r13 = c.r13, r.r14 = c.r14, r.r15 = c.r15;
  r.rip = c.rip;
  r.eflags = c.eflags;
  r.cs = c.seg_cs, r.ss = c.seg_ss, r.ds = c.seg_ds, r.es = c.seg_es, r.fs = c.seg_fs, r.gs = c.seg_gs;
  r.orig_rax = ~0ull;  // not in a CONTEXT: "no system call", as the kernel writes for a fault
  r.fs_base = teb;
  return r;
}

}  // namespace

MinidumpView::MinidumpView(const reader::Minidump& dump) : dump_(dump) {
  std::string status = dump.text_stream(static_cast<uint32_t>(format::StreamType::LinuxProcStatus)).value_or("");
  if (auto misc = dump.misc_info(); misc && misc->pid) process_.pid = static_cast<pid_t>(*misc->pid);
  if (process_.pid == 0) process_.pid = static_cast<pid_t>(first_number(status_field(status, "Pid")));
  process_.parent_pid = static_cast<pid_t>(first_number(status_field(status, "PPid")));
  process_.uid = static_cast<uid_t>(first_number(status_field(status, "Uid")));
  process_.gid = static_cast<gid_t>(first_number(status_field(status, "Gid")));
  process_.process_group = static_cast<pid_t>(first_number(status_field(status, "NSpgid")));
  process_.session = static_cast<pid_t>(first_number(status_field(status, "NSsid")));
  std::string_view state = status_field(status, "State");
  process_.state = state.empty() ? 0 : state.front();
  process_.name = std::string(status_field(status, "Name"));
  process_.command_line = dump.text_stream(static_cast<uint32_t>(format::StreamType::LinuxCmdLine)).value_or("");
  if (auto auxv = dump.stream(static_cast<uint32_t>(format::StreamType::LinuxAuxv))) process_.auxv.assign(auxv->begin(), auxv->end());

  for (const reader::ModuleView& m : dump.modules()) modules_.push_back({m.base, m.size, m.name, m.build_id, ""});
  if (!modules_.empty()) process_.image_path = modules_.front().path;
  if (process_.name.empty() && !process_.image_path.empty()) {
    process_.name = process_.image_path.substr(process_.image_path.rfind('/') + 1).substr(0, 15);
  }

  size_t without_registers = 0;
  for (const reader::ThreadView& t : dump.threads()) {
    if (!t.context) {
      ++without_registers;
      continue;
    }
    ThreadState s;
    s.tid = static_cast<pid_t>(t.tid);
    s.name = t.name;
    s.regs = regs_of(*t.context, t.teb);
    if ((t.context->context_flags & format::context_flags::kFloatingPoint) == format::context_flags::kFloatingPoint) {
      user_fpregs_struct fp;
      std::memcpy(&fp, t.context->flt_save, sizeof fp);
      s.fpregs = fp;
    }
    threads_.push_back(std::move(s));
  }
  if (without_registers > 0) gaps_.push_back(fmt::format("{} threads without registers in the dump are left out", without_registers));

  for (const reader::MemoryRange& r : dump.memory()) {
    uint64_t end = r.address + r.bytes.size();
    if (!held_.empty() && held_.back().second >= r.address) {
      held_.back().second = std::max(held_.back().second, end);
    } else {
      held_.emplace_back(r.address, end);
    }
  }

  if (auto maps = dump.text_stream(static_cast<uint32_t>(format::StreamType::LinuxMaps))) {
    for (const Region& r : os::parse_maps(*maps, false)) {
      Mapping m;
      m.start = r.start, m.end = r.end, m.prot = r.prot, m.shared = r.shared, m.file_offset = r.file_offset;
      m.dev_major = r.dev_major, m.dev_minor = r.dev_minor, m.inode = r.inode, m.path = std::string(r.path);
      mappings_.push_back(std::move(m));
    }
  } else if (auto info = dump.memory_info(); !info.empty()) {
    gaps_.push_back("no LinuxMaps stream: mappings from the MemoryInfoList, file offsets guessed from module bases");
    for (const reader::MemoryInfoView& i : info) {
      if (i.state != format::mem::kCommit || i.size == 0) continue;
      Mapping m;
      m.start = i.base, m.end = i.base + i.size, m.prot = prot_of(i.protect);
      for (const Module& mod : modules_) {
        if (m.start >= mod.base && m.start < mod.base + mod.size) m.path = mod.path, m.file_offset = m.start - mod.base;
      }
      mappings_.push_back(std::move(m));
    }
  } else {
    gaps_.push_back("no memory map: mappings from the modules and the memory the dump holds");
    auto add = [this](uint64_t start, uint64_t end, uint32_t prot, const std::string& path) {
      Mapping m;
      m.start = start, m.end = end, m.prot = prot, m.path = path;
      mappings_.push_back(std::move(m));
    };
    for (const Module& mod : modules_) add(mod.base, mod.base + mod.size, PROT_READ | PROT_EXEC, mod.path);
    for (const auto& [lo, hi] : held_) add(lo, hi, PROT_READ | PROT_WRITE, "");
    std::sort(mappings_.begin(), mappings_.end(), [](const Mapping& a, const Mapping& b) { return a.start < b.start; });
    // Disjoint, as the view promises: a later mapping starts where an earlier one ends.
    for (size_t i = 1; i < mappings_.size(); ++i) mappings_[i].start = std::max(mappings_[i].start, mappings_[i - 1].end);
    std::erase_if(mappings_, [](const Mapping& m) { return m.end <= m.start; });
  }

  rebuild_link_map_if_missing();
  if (auto e = dump.exceptions(); !e.empty()) {
    signal_ = Signal{static_cast<pid_t>(e.front().tid), static_cast<int>(e.front().code), static_cast<int>(e.front().flags), 0,
                     e.front().address};
  }
  gaps_.push_back("no signal masks, no XSAVE state beyond the FXSAVE image, no thread times: a minidump's threads do not carry them");
}

void MinidumpView::rebuild_link_map_if_missing() {
  std::optional<reader::DsoDebugView> debug = dump_.dso_debug();
  if (!debug) {
    gaps_.push_back("no LinuxDsoDebug stream: without the process's memory, readers find no shared libraries");
    return;
  }
  // The dump holds the list when it holds the dynamic section and the r_debug its DT_DEBUG names.
  std::vector<uint8_t> dynamic(debug->dynamic_section.size());
  bool holds = !dynamic.empty() && dump_.read_memory(debug->dynamic, dynamic) == dynamic.size();
  if (holds) {
    uint64_t r_debug = 0;
    for (size_t at = 0; at + sizeof(Elf64_Dyn) <= dynamic.size(); at += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      std::memcpy(&d, dynamic.data() + at, sizeof d);
      if (d.d_tag == DT_DEBUG) r_debug = d.d_un.d_ptr;
    }
    uint8_t probe[40];
    holds = r_debug != 0 && dump_.read_memory(r_debug, probe) == sizeof probe;
  }
  if (holds) return;
  link_map_ = rebuild_link_map(*debug, mappings_);
  if (!link_map_) {
    gaps_.push_back("the dynamic linker's list of objects: not in the dump, and not rebuilt from LinuxDsoDebug");
    return;
  }
  gaps_.push_back(fmt::format("the dynamic linker's list of objects: rebuilt from LinuxDsoDebug at {:#x} (not the process's own bytes)",
                              link_map_->list.address));
  auto at = std::lower_bound(mappings_.begin(), mappings_.end(), link_map_->list_mapping.start,
                             [](const Mapping& m, uint64_t a) { return m.start < a; });
  mappings_.insert(at, link_map_->list_mapping);
  for (const SyntheticBytes* piece : {&link_map_->dynamic, &link_map_->list}) {
    held_.emplace_back(piece->address, piece->address + piece->bytes.size());
  }
  merge_ranges(held_);
}

size_t MinidumpView::read_memory(uint64_t address, std::span<uint8_t> out) const {
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    const SyntheticBytes* inside = nullptr;
    uint64_t next_piece = UINT64_MAX;
    if (link_map_) {
      for (const SyntheticBytes* piece : {&link_map_->dynamic, &link_map_->list}) {
        if (at >= piece->address && at < piece->address + piece->bytes.size()) inside = piece;
        if (piece->address > at) next_piece = std::min(next_piece, piece->address);
      }
    }
    size_t n = 0;
    if (inside != nullptr) {
      n = std::min(out.size() - done, static_cast<size_t>(inside->address + inside->bytes.size() - at));
      std::memcpy(out.data() + done, inside->bytes.data() + (at - inside->address), n);
    } else {
      size_t limit = static_cast<size_t>(std::min<uint64_t>(out.size() - done, next_piece - at));
      n = dump_.read_memory(at, out.subspan(done, limit));
    }
    if (n == 0) break;
    done += n;
  }
  return done;
}

std::optional<std::vector<std::pair<uint64_t, uint64_t>>> MinidumpView::held(uint64_t start, uint64_t end) const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (const auto& [lo, hi] : held_) {
    if (hi > start && lo < end) out.emplace_back(std::max(lo, start), std::min(hi, end));
  }
  return out;
}

}  // namespace snapdump::view
