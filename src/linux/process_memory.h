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

}  // namespace snapdump::os
