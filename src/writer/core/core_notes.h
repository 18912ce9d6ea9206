// The PT_NOTE segment of an ELF core: what the kernel's fill_note_info writes, in its order, so
// that every reader that knows kernel cores (gdb, LLDB, elfutils) reads ours the same way:
//   first thread:  NT_PRSTATUS, NT_PRPSINFO, NT_SIGINFO, NT_AUXV, NT_FILE, NT_PRFPREG, NT_X86_XSTATE
//   every other:   NT_PRSTATUS, NT_PRFPREG, NT_X86_XSTATE
// The first thread is the one the signal was delivered to (gdb and LLDB show it as the thread
// that stopped), else the main thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "view/process_view.h"

namespace snapdump::writer::core {

// The threads in the order the notes list them (see above).
std::vector<const view::ThreadState*> ordered_threads(const std::vector<const view::ThreadState*>& threads,
                                                      pid_t pid, const std::optional<view::Signal>& signal);

// The notes' bytes. `threads` in the order they are to be written (ordered_threads), none of them
// exited. Without a signal there is no NT_SIGINFO and every pr_cursig is 0 (a core written of a
// process that is not dying, as gdb's gcore writes one).
std::vector<uint8_t> build_notes(const view::ProcessView& view, const std::vector<const view::ThreadState*>& threads,
                                 const std::optional<view::Signal>& signal);

// The NT_FILE note's payload: every mapping of a file, with the page-unit offsets readers use to
// find each file's ELF header (eu-unstrip, LLDB's module list, gdb's "info proc mappings").
std::vector<uint8_t> file_note(const view::ProcessView& view);

}  // namespace snapdump::writer::core
