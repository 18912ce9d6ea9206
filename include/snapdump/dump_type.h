// MINIDUMP_TYPE: what a minidump holds, with the numeric values of minidumpapiset.h. The one
// definition of these values: the C++ API, the writer and the Windows-compatible API all use it.
#pragma once

#include <cstdint>

namespace snapdump {

// MINIDUMP_TYPE values (the same numbers as minidumpapiset.h).
using DumpType = uint32_t;
namespace dump {
inline constexpr DumpType kNormal = 0x00000000;
inline constexpr DumpType kWithDataSegs = 0x00000001;
inline constexpr DumpType kWithFullMemory = 0x00000002;
inline constexpr DumpType kWithHandleData = 0x00000004;
inline constexpr DumpType kFilterMemory = 0x00000008;
inline constexpr DumpType kScanMemory = 0x00000010;
inline constexpr DumpType kWithUnloadedModules = 0x00000020;
inline constexpr DumpType kWithIndirectlyReferencedMemory = 0x00000040;
inline constexpr DumpType kFilterModulePaths = 0x00000080;
inline constexpr DumpType kWithProcessThreadData = 0x00000100;
inline constexpr DumpType kWithPrivateReadWriteMemory = 0x00000200;
inline constexpr DumpType kWithoutOptionalData = 0x00000400;
inline constexpr DumpType kWithFullMemoryInfo = 0x00000800;
inline constexpr DumpType kWithThreadInfo = 0x00001000;
inline constexpr DumpType kWithCodeSegs = 0x00002000;
inline constexpr DumpType kWithoutAuxiliaryState = 0x00004000;
inline constexpr DumpType kWithFullAuxiliaryState = 0x00008000;
inline constexpr DumpType kWithPrivateWriteCopyMemory = 0x00010000;
inline constexpr DumpType kIgnoreInaccessibleMemory = 0x00020000;
inline constexpr DumpType kWithTokenInformation = 0x00040000;
inline constexpr DumpType kWithModuleHeaders = 0x00080000;
inline constexpr DumpType kFilterTriage = 0x00100000;
inline constexpr DumpType kWithAvxXStateContext = 0x00200000;
inline constexpr DumpType kWithIptTrace = 0x00400000;
inline constexpr DumpType kScanInaccessiblePartialPages = 0x00800000;
inline constexpr DumpType kFilterWriteCombinedMemory = 0x01000000;
inline constexpr DumpType kValidTypeFlags = 0x01ffffff;
}  // namespace dump

}  // namespace snapdump
