// What the target must undo on the way out, whichever way it leaves: temp files in /tmp and
// the child process behind the pidfd. Kept in fixed storage so a signal handler can use it.
#pragma once

#include <sys/types.h>

namespace sdtarget {

// The path is copied; at most a handful are ever registered.
void register_temp_path(const char* path);
void register_child(pid_t child);

// SIGTERM, SIGINT and SIGHUP behave like the "exit" command.
void install_termination_handlers();

// Async-signal-safe: unlinks the temp files, kills and reaps the child, then _exit(status).
// _exit also ends every parked thread, which is the simplest way to "unblock" them all.
[[noreturn]] void cleanup_and_exit(int status);

}  // namespace sdtarget
