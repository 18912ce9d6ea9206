#include <cstring>

#include "writer/context_amd64.h"
#include "writer/streams.h"

namespace snapdump::writer {

format::ContextAmd64 registers_context(const user_regs_struct& r, const user_fpregs_struct* fpregs) {
  format::ContextAmd64 c{};
  c.context_flags = format::context_flags::kAmd64 | format::context_flags::kControl | format::context_flags::kInteger |
                    format::context_flags::kSegments;
  c.rax = r.rax, c.rbx = r.rbx, c.rcx = r.rcx, c.rdx = r.rdx;
  c.rsi = r.rsi, c.rdi = r.rdi, c.rbp = r.rbp, c.rsp = r.rsp;
  c.r8 = r.r8, c.r9 = r.r9, c.r10 = r.r10, c.r11 = r.r11;
  c.r12 = r.r12, c.r13 = r.r13, c.r14 = r.r14, c.r15 = r.r15;
  c.rip = r.rip;
  c.eflags = static_cast<uint32_t>(r.eflags);
  c.seg_cs = static_cast<uint16_t>(r.cs);
  c.seg_ss = static_cast<uint16_t>(r.ss);
  c.seg_ds = static_cast<uint16_t>(r.ds);
  c.seg_es = static_cast<uint16_t>(r.es);
  c.seg_fs = static_cast<uint16_t>(r.fs);
  c.seg_gs = static_cast<uint16_t>(r.gs);
  if (fpregs) {
    static_assert(sizeof(*fpregs) == sizeof(c.flt_save));
    c.context_flags |= format::context_flags::kFloatingPoint;
    std::memcpy(c.flt_save, fpregs, sizeof c.flt_save);
    c.mx_csr = fpregs->mxcsr;
  }
  return c;
}

format::ContextAmd64 to_context(const ThreadEntry& t) {
  const user_regs_struct& r = t.regs;
  if (t.capture == ThreadCapture::left_running) {
    // Only rip and rsp are known (from /proc/PID/task/TID/syscall).
    format::ContextAmd64 c{};
    c.context_flags = format::context_flags::kControl;
    c.rip = r.rip;
    c.rsp = r.rsp;
    c.seg_cs = 0x33;
    c.seg_ss = 0x2b;
    return c;
  }
  bool fp = t.context_flags & format::context_flags::kFloatingPoint & ~format::context_flags::kAmd64;
  format::ContextAmd64 c = registers_context(r, fp ? &t.fpregs : nullptr);
  // Only the parts the capture holds are flagged.
  c.context_flags = (t.context_flags & format::context_flags::kAll) | format::context_flags::kAmd64;
  if (t.context_flags & format::context_flags::kDebugRegisters & ~format::context_flags::kAmd64) {
    c.dr0 = t.debug_registers[0], c.dr1 = t.debug_registers[1];
    c.dr2 = t.debug_registers[2], c.dr3 = t.debug_registers[3];
    c.dr6 = t.debug_registers[6], c.dr7 = t.debug_registers[7];
  }
  return c;
}

}  // namespace snapdump::writer
