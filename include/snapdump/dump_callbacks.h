// Callbacks that steer a minidump while it is written: the C++ form of MiniDumpWriteDump's
// MINIDUMP_CALLBACK_ROUTINE. Each virtual function is one MINIDUMP_CALLBACK_TYPE; the defaults
// change nothing, so a caller overrides only what it needs. The Windows-compatible API
// (snapdump/win/) translates every MINIDUMP_CALLBACK_INPUT/OUTPUT onto these functions.
//
// The order in which they are called (docs/minidump.md gives the reasons):
//   1. io_start, then secondary_flags, then vm_start
//   2. include_thread for each thread, then include_module for each module
//   3. thread for each included thread, then module for each included module
//   4. memory until it returns nullopt, then remove_memory likewise (neither with full memory)
//   5. writing: include_vm_region twice per region in the full-memory pass (once to size the
//      Memory64List, once as the bytes are written), vm_query / vm_pre_read / vm_post_read
//      around target reads, read_memory_failure on reads that fail, io_write_all for every
//      write when io_start accepted, cancel between steps while it keeps asking
//   6. io_finish when every byte is written; then write_kernel_minidump
// A callback that throws fails the dump with that exception; nothing that looks whole is left.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "snapdump/snapshot_types.h"

namespace snapdump {

// THREAD_WRITE_FLAGS: the parts of a thread that go into the dump.
using ThreadWriteFlags = uint32_t;
namespace thread_write {
inline constexpr ThreadWriteFlags kThread = 0x01;             // the thread's entry at all
inline constexpr ThreadWriteFlags kStack = 0x02;              // its stack memory
inline constexpr ThreadWriteFlags kContext = 0x04;            // its registers
inline constexpr ThreadWriteFlags kBackingStore = 0x08;       // IA-64 only: never set on x86-64
inline constexpr ThreadWriteFlags kInstructionWindow = 0x10;  // the code around its IP
inline constexpr ThreadWriteFlags kThreadData = 0x20;         // its TLS block (fs_base) page
inline constexpr ThreadWriteFlags kThreadInfo = 0x40;         // its ThreadInfoList entry
}  // namespace thread_write

// MODULE_WRITE_FLAGS: the parts of a module that go into the dump.
using ModuleWriteFlags = uint32_t;
namespace module_write {
inline constexpr ModuleWriteFlags kModule = 0x01;           // the module's entry at all
inline constexpr ModuleWriteFlags kDataSeg = 0x02;          // its writable mappings (MiniDumpWithDataSegs)
inline constexpr ModuleWriteFlags kMiscRecord = 0x04;       // its misc record (none on Linux)
inline constexpr ModuleWriteFlags kCvRecord = 0x08;         // its CodeView record (the ELF build-id)
inline constexpr ModuleWriteFlags kReferencedByMemory = 0x10;  // set by MiniDumpScanMemory
inline constexpr ModuleWriteFlags kTlsData = 0x20;          // its TLS data (not captured on Linux)
inline constexpr ModuleWriteFlags kCodeSegs = 0x40;         // its executable mappings (MiniDumpWithCodeSegs)
}  // namespace module_write

// MINIDUMP_SECONDARY_FLAGS
namespace secondary {
inline constexpr uint32_t kWithoutPowerInfo = 0x1;
inline constexpr uint32_t kValidFlags = 0x1;
}  // namespace secondary

// MINIDUMP_THREAD_CALLBACK: a thread as it will be written.
struct ThreadCallbackInfo {
  const ThreadEntry& thread;
  uint64_t stack_base = 0;  // lowest address of the stack bytes that would be written
  uint64_t stack_end = 0;   // one past the highest
};

// MINIDUMP_MODULE_CALLBACK: a module as it will be written.
struct ModuleCallbackInfo {
  std::string path;
  uint64_t base = 0;
  uint64_t size = 0;
  uint32_t checksum = 0;
  uint32_t time_date_stamp = 0;
  std::span<const uint8_t> cv_record;  // the CodeView record (BpEL signature + build-id)
};

struct MemoryRange {
  uint64_t base = 0;
  uint64_t size = 0;
};

// MINIDUMP_MEMORY_INFO in the units the writer uses (Windows PAGE_* and MEM_* values).
struct VmRegionInfo {
  uint64_t base = 0;
  uint64_t allocation_base = 0;
  uint32_t allocation_protect = 0;
  uint64_t size = 0;
  uint32_t state = 0;    // MEM_COMMIT
  uint32_t protect = 0;  // PAGE_*
  uint32_t type = 0;     // MEM_IMAGE / MEM_MAPPED / MEM_PRIVATE
};

// The answer of a CancelCallback.
struct CancelAnswer {
  bool check_cancel = false;  // false: stop sending cancel callbacks
  bool cancel = false;        // true: fail the dump with Errc::cancelled
};

// The answer of VmPreReadCallback / VmPostReadCallback.
struct VmReadAnswer {
  int error = 0;          // 0 = success, else an errno reported as the read's failure
  size_t completed = 0;   // bytes of the buffer that now hold the target's data
};

class DumpCallbacks {
 public:
  virtual ~DumpCallbacks() = default;

  // IoStartCallback: return true to take every byte of the dump through io_write_all (no file
  // is written; the path or fd given to write_minidump is ignored).
  virtual bool io_start() { return false; }
  // IoWriteAllCallback: write all of `bytes` at `offset` (random access: the directory and the
  // signature are rewritten at the end). Return false, or throw, to fail the dump.
  virtual bool io_write_all(uint64_t offset, std::span<const uint8_t> bytes) {
    (void)offset, (void)bytes;
    return false;
  }
  // IoFinishCallback: every byte is written. Return false to fail the dump.
  virtual bool io_finish() { return true; }

  // SecondaryFlagsCallback: MINIDUMP_SECONDARY_FLAGS for this dump.
  virtual uint32_t secondary_flags(uint32_t flags) { return flags; }

  // IncludeThreadCallback: false leaves the thread out; `flags` may be narrowed.
  virtual bool include_thread(uint32_t tid, ThreadWriteFlags& flags) {
    (void)tid, (void)flags;
    return true;
  }
  // IncludeModuleCallback: false leaves the module out; `flags` may be narrowed.
  virtual bool include_module(uint64_t base, ModuleWriteFlags& flags) {
    (void)base, (void)flags;
    return true;
  }
  // ThreadCallback (x86-64 has no backing store, so never ThreadExCallback): the thread with
  // its registers and stack bounds; false leaves it out, `flags` may be narrowed.
  virtual bool thread(const ThreadCallbackInfo& info, ThreadWriteFlags& flags) {
    (void)info, (void)flags;
    return true;
  }
  // ModuleCallback: the module with its identity; false leaves it out, `flags` may be narrowed.
  virtual bool module(const ModuleCallbackInfo& info, ModuleWriteFlags& flags) {
    (void)info, (void)flags;
    return true;
  }

  // MemoryCallback: one more range to add; called until it returns nullopt or a size of 0.
  virtual std::optional<MemoryRange> memory() { return std::nullopt; }
  // RemoveMemoryCallback: one range to take out; called until nullopt or a size of 0.
  virtual std::optional<MemoryRange> remove_memory() { return std::nullopt; }

  // IncludeVmRegionCallback: `region` may be narrowed to a page-aligned subset (size 0 leaves
  // it out). Return false to stop these callbacks; this and every later region is written whole.
  virtual bool include_vm_region(VmRegionInfo& region) {
    (void)region;
    return false;
  }

  // CancelCallback
  virtual CancelAnswer cancel() { return {}; }

  // ReadMemoryFailureCallback: a read of [address, address + bytes) failed with `error`
  // (errno). Return true to leave those bytes out and go on, false to fail the dump. Failures in
  // a thread's stack are not recoverable and do not call back.
  virtual bool read_memory_failure(uint64_t address, uint64_t bytes, int error) {
    (void)address, (void)bytes, (void)error;
    return false;
  }

  // VmStartCallback: true accepts the Vm* callbacks below.
  virtual bool vm_start() { return false; }
  // VmQueryCallback: information about the region at `address` (the start of a region of the
  // snapshot) to use instead of the snapshot's; nullopt keeps the snapshot's.
  virtual std::optional<VmRegionInfo> vm_query(uint64_t address) {
    (void)address;
    return std::nullopt;
  }
  // VmPreReadCallback: may fill `buffer` from elsewhere. The writer reads the target only for
  // the bytes after `completed`.
  virtual VmReadAnswer vm_pre_read(uint64_t address, std::span<uint8_t> buffer) {
    (void)address, (void)buffer;
    return {};
  }
  // VmPostReadCallback: the buffer after the read, `completed` bytes of it valid; may rewrite
  // them (redaction) and change the count. The dump holds the bytes as left here.
  virtual VmReadAnswer vm_post_read(uint64_t address, std::span<uint8_t> buffer, size_t completed, int error) {
    (void)address, (void)buffer;
    return {error, completed};
  }

  // WriteKernelMinidumpCallback: Linux has no kernel minidump; called once after the user-mode
  // dump is complete, and whatever it returns, no kernel dump is written (KernelMinidumpStatus
  // is then sent with E_NOTIMPL by the Windows-compatible API when a handle was returned).
  virtual bool write_kernel_minidump() { return false; }
};

}  // namespace snapdump
