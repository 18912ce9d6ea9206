// Every thread's backtrace from a ProcessView, with elfutils' libdwfl: a live capture after the
// target has resumed (its captured registers and stack bytes), a minidump or a core read back.
// Frames are unwound with CFI (.eh_frame, .debug_frame) and, where a frame has none, the frame
// pointer chain; the stack is never scanned for things that look like return addresses.
#pragma once

#include <cstddef>

#include "unwind/stack_trace.h"
#include "view/process_view.h"

namespace snapdump::unwind {

struct UnwindOptions {
  // A walk stops after this many frames (a corrupt stack can loop through the frame pointers).
  size_t max_frames = 256;
};

// Throws std::runtime_error only when libdwfl cannot be started at all; a thread whose walk
// fails early gets the frames found so far and the reason in ThreadStack::stopped.
Stacks unwind_stacks(const view::ProcessView& view, const UnwindOptions& options = {});

}  // namespace snapdump::unwind
