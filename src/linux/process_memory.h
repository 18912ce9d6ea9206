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

// One range of another process's memory to read, where its bytes go, and (after the read) how
// many of them were read.
struct RangeRead {
  uint64_t address = 0;
  std::span<uint8_t> out;
  size_t got = 0;
};

// Reads every range, as read_process_memory would one by one, but up to 64 ranges per
// process_vm_readv: each call finds the process, checks the right to read it and takes its
// memory map's lock, and in a pause of 16 threads those per-call costs were most of the time
// spent copying their stacks. A range a batch could not read whole is finished alone, so its
// readable prefix is kept and the ranges after it are still read.
void read_process_ranges(pid_t pid, std::span<RangeRead> ranges);

// The same through an open /proc/PID/mem. This is how the VA clone is read: process_vm_readv
// pins the pages it copies, and pinning a copy-on-write page the clone shares with the target
// makes the kernel give the clone its own copy first ("unshare"), so reading a whole clone that
// way would duplicate the target's memory and take twice as long. /proc/PID/mem copies without
// pinning: the pages stay shared.
size_t read_mem_file(int mem_fd, uint64_t address, std::span<uint8_t> out, int* err = nullptr);

}  // namespace snapdump::os
