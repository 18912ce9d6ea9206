// Where each captured thread began (ThreadEntry::start_address).
#pragma once

#include <sys/types.h>

#include <memory_resource>
#include <span>
#include <string_view>

#include "snapdump/snapshot_types.h"

namespace snapdump::detail {

// The main thread began at the program's entry point (auxv AT_ENTRY in `auxv`). Every other
// thread was started by glibc's pthread_create, which keeps the start routine in the thread's
// control block (struct pthread, at the thread pointer fs_base). Its offset there is glibc's to
// choose, so it is not guessed: libc publishes it for debuggers as the dynamic symbol
// _thread_db_pthread_start_routine (the descriptor libthread_db reads: bit size, element count,
// byte offset). The field never changes after the thread starts, so it is read from the live
// process, after the pause. Threads whose start stays unknown keep 0. Takes nothing from the
// heap: the symbol lookup's read buffers come from `scratch`.
void attach_thread_starts(pid_t pid, std::span<const Region> regions, std::string_view auxv,
                          std::span<ThreadEntry> threads,
                          std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

}  // namespace snapdump::detail
