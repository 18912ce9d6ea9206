// MDMP numeric constants with the values of the Windows SDK (minidumpapiset.h, winnt.h) and
// Breakpad's minidump_format.h. Stream types come from stream_types.def, the single table.
#pragma once

#include <cstdint>

#include "snapdump/dump_type.h"

namespace snapdump::format {

enum class StreamType : uint32_t {
#define HANDLE_STREAM(value, name) name = value,
#include "snapdump/format/stream_types.def"
};

// "ThreadList", ... or nullptr for a value not in the table.
const char* stream_type_name(uint32_t type) noexcept;

inline constexpr uint32_t kSignature = 0x504D444D;  // "MDMP"
inline constexpr uint16_t kVersion = 0xA793;        // MINIDUMP_VERSION, the low word of Version

// MINIDUMP_TYPE: the public API's table (snapdump/minidump.h) is the one definition.
namespace dump_type = snapdump::dump;

// MINIDUMP_CALLBACK_TYPE
enum class CallbackType : uint32_t {
  Module = 0, Thread = 1, ThreadEx = 2, IncludeThread = 3, IncludeModule = 4, Memory = 5,
  Cancel = 6, WriteKernelMinidump = 7, KernelMinidumpStatus = 8, RemoveMemory = 9,
  IncludeVmRegion = 10, IoStart = 11, IoWriteAll = 12, IoFinish = 13, ReadMemoryFailure = 14,
  SecondaryFlags = 15, IsProcessSnapshot = 16, VmStart = 17, VmQuery = 18, VmPreRead = 19,
  VmPostRead = 20,
};

// THREAD_WRITE_FLAGS and MODULE_WRITE_FLAGS
namespace thread_write {
inline constexpr uint32_t kThread = 0x1, kStack = 0x2, kContext = 0x4, kBackingStore = 0x8,
                          kInstructionWindow = 0x10, kThreadData = 0x20, kThreadInfo = 0x40;
}
namespace module_write {
inline constexpr uint32_t kModule = 0x1, kDataSeg = 0x2, kMiscRecord = 0x4, kCvRecord = 0x8,
                          kReferencedByMemory = 0x10, kTlsData = 0x20, kCodeSegs = 0x40;
}

// MINIDUMP_MISC_INFO Flags1
namespace misc {
inline constexpr uint32_t kProcessId = 0x1, kProcessTimes = 0x2, kProcessorPowerInfo = 0x4,
                          kProcessIntegrity = 0x10, kProcessExecuteFlags = 0x20, kTimezone = 0x40,
                          kProtectedProcess = 0x80, kBuildString = 0x100, kProcessCookie = 0x200;
}

// SystemInfo
inline constexpr uint16_t kArchitectureAmd64 = 9;
inline constexpr uint32_t kPlatformLinux = 0x8201;  // Breakpad's MD_OS_LINUX

// MEMORY_BASIC_INFORMATION values
namespace mem {
inline constexpr uint32_t kCommit = 0x1000, kReserve = 0x2000, kFree = 0x10000;
inline constexpr uint32_t kPrivate = 0x20000, kMapped = 0x40000, kImage = 0x1000000;
}
namespace page {
inline constexpr uint32_t kNoAccess = 0x01, kReadOnly = 0x02, kReadWrite = 0x04, kWriteCopy = 0x08,
                          kExecute = 0x10, kExecuteRead = 0x20, kExecuteReadWrite = 0x40,
                          kExecuteWriteCopy = 0x80, kGuard = 0x100, kNoCache = 0x200,
                          kWriteCombine = 0x400;
}

// MINIDUMP_THREAD_INFO DumpFlags
namespace thread_info {
inline constexpr uint32_t kErrorThread = 0x1, kWritingThread = 0x2, kExitedThread = 0x4,
                          kInvalidInfo = 0x8, kInvalidContext = 0x10, kInvalidTeb = 0x20;
}

// MINIDUMP_HANDLE_OBJECT_INFORMATION_TYPE
enum class HandleObjectInfoType : uint32_t {
  None = 0, Thread1 = 1, Mutant1 = 2, Mutant2 = 3, Process1 = 4, Process2 = 5, Event1 = 6,
  Section1 = 7, Semaphore1 = 8,
  // snapdump's own: a Linux file descriptor's details as UTF-8 "key: value" lines
  // (snapdump/handle_text.h). Far above the Windows types, which readers recognise by value and
  // skip otherwise, following NextInfoRva.
  LinuxFdText = 0x534E4401,  // "\x01DNS"
};

// CodeView signatures
inline constexpr uint32_t kCvSignatureElf = 0x4270454C;    // "BpEL": Breakpad's ELF build-id
inline constexpr uint32_t kCvSignaturePdb70 = 0x53445352;  // "RSDS"

// AMD64 CONTEXT flags (winnt.h)
namespace context_flags {
inline constexpr uint32_t kAmd64 = 0x00100000;
inline constexpr uint32_t kControl = kAmd64 | 0x1, kInteger = kAmd64 | 0x2, kSegments = kAmd64 | 0x4,
                          kFloatingPoint = kAmd64 | 0x8, kDebugRegisters = kAmd64 | 0x10,
                          kXState = kAmd64 | 0x40;
inline constexpr uint32_t kFull = kControl | kInteger | kFloatingPoint;
inline constexpr uint32_t kAll = kFull | kSegments | kDebugRegisters;
}

}  // namespace snapdump::format
