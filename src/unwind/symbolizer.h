// What a pc is, as the session's modules and their debug information say: function+offset,
// source file:line, module, build-id; and how the frame above it will be unwound (CFI if the
// module has it for this pc, else the frame pointer: libdwfl's own order).
#pragma once

#include "unwind/dwfl_session.h"
#include "unwind/stack_trace.h"

namespace snapdump::unwind {

// Fills frame's names from frame.pc and frame.activation (a return address is looked up at
// pc-1, the call).
void symbolize(const DwflSession& session, Frame& frame);

// True if libdwfl unwinds through this frame with CFI (the module's .eh_frame or .debug_frame
// covers the looked-up pc); false if it falls back to the frame pointer.
bool has_cfi(const DwflSession& session, const Frame& frame);

// Describes a module libdwfl knows: its files, as far as they were found.
ModuleInfo describe_module(const DwflSession& session, Dwfl_Module* mod);

}  // namespace snapdump::unwind
