// Linux x86-64 registers as a minidump's CONTEXT (AMD64), for every writer: the capture's threads
// (to_context in streams.h adds what only a capture knows) and any ProcessView's.
#pragma once

#include <sys/user.h>

#include "snapdump/format/structs.h"

namespace snapdump::writer {

// The general and segment registers (CONTEXT_CONTROL | INTEGER | SEGMENTS), and the FXSAVE image
// as FltSave with MxCsr (CONTEXT_FLOATING_POINT) when `fpregs` is given. Bit 31 is never set:
// LLDB reads it as its own extended layout.
format::ContextAmd64 registers_context(const user_regs_struct& regs, const user_fpregs_struct* fpregs);

}  // namespace snapdump::writer
