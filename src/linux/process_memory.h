// Reading another process's memory with process_vm_readv: one syscall per call, no ptrace stop
// needed, and a failure partway reports how much was read.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace snapdump::os {

// Reads up to out.size() bytes at `address`. Returns the number of bytes read (0 when the first
// page is unreadable); sets *err to the errno of the failure that stopped it, 0 if none.
size_t read_process_memory(pid_t pid, uint64_t address, std::span<uint8_t> out, int* err = nullptr);

// The same through an open /proc/PID/mem. This is how the VA clone is read: process_vm_readv
// pins the pages it copies, and pinning a copy-on-write page the clone shares with the target
// makes the kernel give the clone its own copy first ("unshare"), so reading a whole clone that
// way would duplicate the target's memory and take twice as long. /proc/PID/mem copies without
// pinning: the pages stay shared.
size_t read_mem_file(int mem_fd, uint64_t address, std::span<uint8_t> out, int* err = nullptr);

}  // namespace snapdump::os
