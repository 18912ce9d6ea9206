// Which of the target's memory a dump holds, per MINIDUMP_TYPE flag and per thread and module
// write flags. docs/minidump.md gives the Linux meaning of each flag.
#pragma once

#include <cstdint>
#include <span>
#include <utility>

#include "writer/dump_plan.h"
#include "writer/memory_reader.h"

namespace snapdump::writer {

// A region the snapshot can give bytes of: readable in the target, not VM_IO, not left out.
bool readable(const Region& r);
// Private memory whose pages exist only once written: the heap, stacks, anonymous mappings
// (named or not). Only there does a page-table scan (Snapshot::populated) say what to write.
bool anonymous_memory(const Region& r);

// The stack bytes a thread's entry holds: from below its red zone up to the top of its
// mapping, at most DumpOptions::max_stack_bytes. {0, 0} when its stack pointer is unmapped.
std::pair<uint64_t, uint64_t> stack_bounds(const Snapshot& snapshot, const DumpOptions& options, const ThreadEntry& t);

// MiniDumpScanMemory: sets ModuleReferencedByMemory on modules a stack word points into.
void mark_referenced_modules(const Snapshot& snapshot, const DumpOptions& options, DumpPlan& plan,
                             MemoryReader& reader);

// Fills plan.memory from the dump type and the planned threads' and modules' write flags.
void select_memory(const Snapshot& snapshot, const DumpOptions& options, DumpPlan& plan, MemoryReader& reader);

// MiniDumpFilterMemory: zeroes every 8-byte word of stack bytes at `address` except those a
// stack walk needs (pointers into executable mappings: return addresses; into stacks: frame
// pointers).
void filter_stack_words(const Snapshot& snapshot, uint64_t address, std::span<uint8_t> bytes);

// Bytes kept around each pointer found by MiniDumpWithIndirectlyReferencedMemory, and the most
// such memory one dump takes.
inline constexpr uint64_t kIndirectBefore = 128, kIndirectAfter = 128;
inline constexpr uint64_t kIndirectLimit = 8u << 20;

}  // namespace snapdump::writer
