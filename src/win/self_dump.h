// Dumping the calling process itself (MiniDumpWriteDump(GetCurrentProcess(), ...), the usual
// in-process crash-handler call). A process cannot ptrace itself, so a forked helper captures
// and writes it: the helper is allowed to trace its parent (PR_SET_PTRACER, for Yama scope 1),
// runs `body`, and reports the HRESULT back through a pipe while the caller waits.
#pragma once

#include <functional>

#include "snapdump/win/windows.h"

namespace snapdump::win {

// Runs `body` in a forked child of this process and returns what it returned (E_FAIL if the
// child died). The child shares open files but not memory: only effects on files survive.
HRESULT run_in_dump_helper(const std::function<HRESULT()>& body);

}  // namespace snapdump::win
