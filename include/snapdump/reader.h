// snapdump::reader — a minidump (MDMP) parser that trusts nothing in the file.
//
// Every access goes through a bounds-checked slice of the file, so no input, however corrupt or
// hostile, makes it read outside the file or crash. It is strict about corruption (every
// problem is reported) but lenient about known producer quirks: Unused and size-0 directory
// entries are ignored, list streams may carry 4 bytes of padding after their 32-bit count, and
// thread contexts come in the layouts other writers use (ContextLayout; docs/reading.md). A
// layout it does not know is reported on the thread, not as a problem.
//
// Everything is parsed once, when the dump is opened; the accessors return copies of what that
// parse found, so they are cheap, never throw snapdump::Error and always agree with problems().
// Memory bytes (stacks, memory ranges, raw contexts, stream bytes) are spans into the file's
// mapping: they stay valid as long as any copy of the Minidump they came from is alive.
//
// The on-disk structs (format::Header, format::ContextAmd64, ...) come from
// snapdump/format/structs.h, installed with this header.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "snapdump/format/structs.h"
#include "snapdump/error.h"

namespace snapdump::reader {

struct StreamEntry {
  uint32_t type;
  std::string name;  // format::stream_type_name, or "0x47670042" for a type not in the table
  uint32_t size;
  uint32_t rva;
};

struct SystemInfoView {
  uint16_t architecture;
  uint32_t platform_id;
  uint8_t processors;
  uint32_t major, minor, build;
  std::string csd_version;
  // CPUID vendor ("GenuineIntel") up to its first NUL. The bytes as the file has them: LLDB
  // 16 leaves this field uninitialised, so it may hold anything; print it escaped.
  std::string vendor;
};

struct MiscInfoView {
  uint32_t size_of_info, flags1;
  std::optional<uint32_t> pid;
  std::optional<uint32_t> create_time, user_time, kernel_time;
  std::optional<uint64_t> xstate_enabled_features;
  uint32_t xstate_context_size = 0;
  // XStateData.Features: where each XSAVE feature lies (offset in the standard XSAVE layout).
  std::array<format::XStateFeature, 64> xstate_features{};
};

// How a thread context is laid out. Writers do not agree on the AMD64 one, and nothing in it
// says which it is but its size: the reader tells them apart by size, as Breakpad's processor
// does, and decodes each into a format::ContextAmd64.
enum class ContextLayout : uint8_t {
  none,     // the thread has no context (its location is 0 bytes at RVA 0)
  amd64,    // CONTEXT, 1232 bytes: Windows, Breakpad, Crashpad and snapdump write it
  // CONTEXT followed by more bytes: CONTEXT_EX and an XSAVE area (CONTEXT_XSTATE set: Windows,
  // Crashpad's CET state, snapdump's WithAvxXStateContext), or another writer's extension.
  amd64_extended,
  // LLDB's MinidumpContext_x86_64 as LLDB 16 writes it (`process save-core
  // --plugin-name=minidump`): CONTEXT without its 512-byte FltSave area, 720 bytes.
  lldb,
  // The same with fs_base and gs_base appended (context flag 0x80000000), 736 bytes: later LLDB.
  lldb_with_bases,
  // Any other size, or a dump of another CPU (SystemInfo's ProcessorArchitecture is not AMD64):
  // the registers are not decoded. Not a problem of the file: a layout this reader does not know.
  unknown,
};

// "none", "amd64", "amd64-extended", "lldb", "lldb-with-bases", "unknown".
const char* to_string(ContextLayout layout) noexcept;
// For people: "amd64, 1232 bytes", "lldb, 720 bytes", "unknown layout, 100 bytes".
std::string describe_context(ContextLayout layout, size_t size);

struct ThreadView {
  uint32_t tid;
  uint32_t suspend_count, priority_class, priority;
  uint64_t teb;
  uint64_t stack_start;
  std::span<const uint8_t> stack;
  // The registers, in the CONTEXT layout whatever the file's layout was: fields the file's
  // layout does not have are zero and their context_flags bits are clear (LLDB's has no
  // FltSave, so CONTEXT_FLOATING_POINT is cleared; its own 0x80000000 bit too). When the
  // writer left the CPU type out of context_flags (older Breakpad writers), the AMD64 bit is
  // added, as Breakpad's processor does. nullopt when the layout is unknown or none.
  std::optional<format::ContextAmd64> context;
  ContextLayout context_layout = ContextLayout::none;
  // The whole raw context as the file has it: CONTEXT_EX and XSAVE area included when it is
  // larger than 1232 bytes, LLDB's layout as LLDB wrote it.
  std::span<const uint8_t> context_bytes;
  std::string name;                         // from ThreadNames
  std::optional<format::ThreadInfo> info;   // from ThreadInfoList
};

struct ModuleView {
  uint64_t base;
  uint32_t size;
  uint32_t checksum, time_date_stamp;
  std::string name;
  std::vector<uint8_t> build_id;  // from a 'BpEL' CodeView record
  uint32_t cv_signature;          // 0 when the module has no CodeView record
};

struct UnloadedModuleView {
  uint64_t base;
  uint32_t size;
  std::string name;
};

// One MINIDUMP_TOKEN_INFO_HEADER and its data. snapdump writes the process's credentials there
// as /proc/PID/status lines (docs/minidump.md); Windows writes its own token structures.
struct TokenView {
  uint32_t id;
  uint64_t handle;
  std::span<const uint8_t> data;
};

// Breakpad's LinuxDsoDebug stream: the dynamic linker's r_debug and its link_map list.
struct DsoDebugView {
  uint32_t version = 0;
  uint64_t brk = 0, ldbase = 0, dynamic = 0;
  struct Object {
    uint64_t addr;  // load bias
    uint64_t ld;    // its dynamic section
    std::string name;
  };
  std::vector<Object> objects;
  std::span<const uint8_t> dynamic_section;  // the main program's, as the stream carries it
};

struct MemoryRange {
  uint64_t address;
  std::span<const uint8_t> bytes;
  bool from_memory64;
};

struct MemoryInfoView {
  uint64_t base, allocation_base, size;
  uint32_t allocation_protect, state, protect, type;
};

struct HandleView {
  uint64_t handle;
  std::string type_name, object_name;
  uint32_t attributes, granted_access, handle_count, pointer_count;
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> object_info;  // (InfoType, bytes) chain
};

struct ExceptionView {
  uint32_t tid;
  uint32_t code, flags;
  uint64_t address;
  std::vector<uint64_t> parameters;
  std::optional<format::ContextAmd64> context;  // as ThreadView::context
  ContextLayout context_layout = ContextLayout::none;
};

struct OmittedMemoryView {
  uint64_t start = 0, end = 0;
  std::string reason;  // "over-copy-cap", "changed-in-pause", or what a later writer says
  std::string path;    // as /proc/PID/maps names the region ("" for anonymous memory)
};

// XSAVE feature `feature` (2 = AVX: the upper halves of YMM0-15, 16 bytes each) of a thread
// context in the CONTEXT_EX form (MiniDumpWithAvxXStateContext), found through the context's
// CONTEXT_EX and MiscInfo's XStateData. A feature in its initial state (its XSTATE_BV bit clear)
// reads as zeros, as the processor defines it. nullopt when the context has no such feature or
// any offset or size is out of bounds.
std::optional<std::vector<uint8_t>> xstate_feature(std::span<const uint8_t> context, const MiscInfoView& misc,
                                                   unsigned feature);

namespace detail {
struct Parsed;
}

class Minidump {
 public:
  // Maps the file read-only. Throws Error(corrupt_input) naming the problem when the header or
  // the directory is unusable, and an open/stat/mmap failure as Error(permission_denied or
  // io_error). The file must not be truncated while the Minidump lives (that would be SIGBUS).
  static Minidump open(const std::string& path);
  // The same, from bytes in memory (tests, fuzzing).
  static Minidump from_bytes(std::vector<uint8_t> bytes);

  const format::Header& header() const;
  // The directory without its Unused and size-0 entries, in file order.
  const std::vector<StreamEntry>& streams() const;
  // Raw bytes of the first stream of that type whose location lies inside the file.
  std::optional<std::span<const uint8_t>> stream(uint32_t type) const;
  // What could not be parsed, one human-readable line each, computed once when the dump is
  // opened (stable; calling accessors adds nothing). Parsing continued past every problem.
  const std::vector<std::string>& problems() const;

  std::optional<SystemInfoView> system_info() const;
  std::optional<MiscInfoView> misc_info() const;
  // ThreadList, or ThreadExList when the dump has no ThreadList.
  std::vector<ThreadView> threads() const;
  std::vector<ModuleView> modules() const;
  std::vector<UnloadedModuleView> unloaded_modules() const;
  std::vector<TokenView> tokens() const;
  std::optional<DsoDebugView> dso_debug() const;
  // MemoryList and Memory64List together, sorted by address.
  std::vector<MemoryRange> memory() const;
  // Copies captured memory at address into out, continuing across adjacent ranges; returns how
  // many bytes it copied (stops at the first byte that was not captured).
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const;
  std::vector<MemoryInfoView> memory_info() const;
  std::vector<HandleView> handles() const;
  // One per Exception stream (several are allowed).
  std::vector<ExceptionView> exceptions() const;
  // Breakpad's Linux text streams (LinuxCpuInfo, LinuxProcStatus, LinuxLsbRelease, LinuxMaps,
  // LinuxCmdLine and LinuxEnviron, all verbatim, NULs kept), CommentA (up to its first NUL) and
  // CommentW (UTF-16LE converted to UTF-8). nullopt for any other type, or when absent.
  std::optional<std::string> text_stream(uint32_t type) const;
  // snapdump's SnapdumpOmittedMemory stream (also a text stream): the readable memory the dump
  // leaves out. Empty when the stream is absent. A line that does not parse comes back whole in
  // `path` with reason "unparsed".
  std::vector<OmittedMemoryView> omitted_memory() const;

 private:
  explicit Minidump(std::shared_ptr<const detail::Parsed> parsed);
  std::shared_ptr<const detail::Parsed> p_;
};

}  // namespace snapdump::reader
