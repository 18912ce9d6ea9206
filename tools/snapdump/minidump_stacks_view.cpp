#include "minidump_stacks_view.h"

#include <elf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace snapdump::cli {

bool is_elf_core(const std::string& path) {
  Elf64_Ehdr header{};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  bool whole = std::fread(&header, sizeof header, 1, f) == 1;
  std::fclose(f);
  return whole && std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 && header.e_type == ET_CORE;
}

MinidumpStacksView::MinidumpStacksView(const reader::Minidump& dump) : dump_(dump) {
  if (auto misc = dump.misc_info(); misc && misc->pid) process_.pid = static_cast<pid_t>(*misc->pid);
  for (const reader::ThreadView& t : dump.threads()) {
    view::ThreadState s;
    s.tid = static_cast<pid_t>(t.tid);
    s.name = t.name;
    if (t.context) {
      const format::ContextAmd64& c = *t.context;
      user_regs_struct& r = s.regs;
      r.rax = c.rax, r.rbx = c.rbx, r.rcx = c.rcx, r.rdx = c.rdx, r.rsi = c.rsi, r.rdi = c.rdi;
      r.rbp = c.rbp, r.rsp = c.rsp, r.rip = c.rip;
      r.r8 = c.r8, r.r9 = c.r9, r.r10 = c.r10, r.r11 = c.r11, r.r12 = c.r12, r.r13 = c.r13, r.r14 = c.r14, r.r15 = c.r15;
    } else {
      gaps_.push_back(fmt::format("thread {}: no registers the reader can decode ({})", t.tid,
                                  describe_context(t.context_layout, t.context_bytes.size())));
    }
    threads_.push_back(std::move(s));
  }
  for (const reader::ModuleView& m : dump.modules()) {
    view::Module mod;
    mod.base = m.base;
    mod.size = m.size;
    mod.path = m.name;
    mod.build_id = m.build_id;
    modules_.push_back(std::move(mod));
  }
  // libdwfl wants its modules in address order and disjoint.
  std::sort(modules_.begin(), modules_.end(), [](const auto& a, const auto& b) { return a.base < b.base; });
}

}  // namespace snapdump::cli
