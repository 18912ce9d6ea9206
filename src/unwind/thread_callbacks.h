// libdwfl's view of the threads: dwfl_attach_state's Dwfl_Thread_Callbacks over a ProcessView.
// Each thread starts from its captured user_regs_struct, and the stack words the unwinder reads
// come from the view's memory, never from the process, which has resumed (or is gone) by now.
#pragma once

#include "unwind/dwfl_session.h"

namespace snapdump::unwind {

// Attaches the view's threads to the session's Dwfl. Throws std::runtime_error with libdwfl's
// reason if it refuses.
void attach_threads(DwflSession& session);

}  // namespace snapdump::unwind
