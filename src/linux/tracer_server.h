// The tracer: the one place that ptraces the target, answering the library's requests
// (tracer_protocol.h) over a unix stream socket.
//
// It normally runs as a process of its own (snapdump-tracer, started by tracer_client.h), so
// that nothing which happens to the process using snapdump reaches the target:
//   - the library's process killed (SIGKILL, the OOM killer, a timeout): the tracer sees its
//     socket close, finishes the step it is in, undoes what the capture did (every thread
//     released with its own registers, the clone and its helpers killed and reaped) and exits;
//   - the library's process stopped (Ctrl-Z, SIGSTOP) while the target is held: the tracer lets
//     the target go after kOwnerStoppedGraceMs, and the dump then fails saying so;
//   - terminal signals and timeout's process-group signals: the tracer has its own session and
//     ignores every catchable signal; it asks the kernel to spare it from the OOM killer.
// The same loop can run on a thread of the library's process (tracer_client.h says when).
#pragma once

#include <sys/types.h>

namespace snapdump::os {

// How long the tracer keeps a target held while the process that asked for the hold is stopped.
inline constexpr int kOwnerStoppedGraceMs = 500;

// Serves requests on `fd` until the peer closes it, then releases what it holds. `owner` is the
// process whose death or stop the tracer watches (0 for none: in-process mode). Returns 0, or
// an errno when the socket broke before the peer closed it.
int serve_tracer(int fd, pid_t owner, bool in_process) noexcept;

// main() of the snapdump-tracer executable: `snapdump-tracer --socket FD --owner PID`.
int tracer_process_main(int argc, char** argv);

}  // namespace snapdump::os
