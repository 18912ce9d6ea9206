// Every read of the target's memory the writer makes goes through here, so that the Vm*
// callbacks see each one (VmPreRead may supply bytes, VmPostRead may rewrite them) and a read
// that fails is handled as the dump type and ReadMemoryFailureCallback say.
#pragma once

#include <cstdint>
#include <span>

#include "snapdump/minidump.h"
#include "writer/dump_plan.h"

namespace snapdump::writer {

enum class ReadPurpose {
  stack,    // a thread's stack: a failure fails the dump, with no callback (as documented)
  dump,     // bytes that go into the dump: a failure is ignored (IgnoreInaccessibleMemory) or
            // asked of ReadMemoryFailureCallback
  inspect,  // bytes the writer only looks at (pointer scans): a failure just ends the read
};

class MemoryReader {
 public:
  MemoryReader(const Snapshot& snapshot, const DumpOptions& options, Steering& steering, bool vm_callbacks)
      : snapshot_(snapshot), options_(options), steering_(steering), vm_(vm_callbacks) {}

  // Reads up to out.size() bytes at `address`; returns how many leading bytes are valid. Throws
  // Error when the failure is fatal for `purpose` (process_exited when the target is gone).
  size_t read(uint64_t address, std::span<uint8_t> out, ReadPurpose purpose);

 private:
  size_t read_once(uint64_t address, std::span<uint8_t> out, int& error);
  const Snapshot& snapshot_;
  const DumpOptions& options_;
  Steering& steering_;
  bool vm_;
};

}  // namespace snapdump::writer
