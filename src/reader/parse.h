// Internals of the minidump reader: the bounds-checked view of the file every parser goes
// through, and the parsers of each stream family.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "snapdump/reader.h"

namespace snapdump::reader::detail {

using Bytes = std::span<const uint8_t>;

// Size-checked sub-slice: nullopt unless [offset, offset + size) lies inside s. Written so that
// no sum can wrap, whatever the operands.
inline std::optional<Bytes> slice(Bytes s, uint64_t offset, uint64_t size) {
  if (offset > s.size() || size > s.size() - offset) return std::nullopt;
  return s.subspan(static_cast<size_t>(offset), static_cast<size_t>(size));
}

// A copy of the T at offset (memcpy: the file gives no alignment guarantee).
template <class T>
std::optional<T> load(Bytes s, uint64_t offset) {
  static_assert(std::is_trivially_copyable_v<T>);
  auto b = slice(s, offset, sizeof(T));
  if (!b) return std::nullopt;
  T value;
  std::memcpy(&value, b->data(), sizeof(T));
  return value;
}

// Collects problem lines. Capped: a hostile file can make one per list entry, and the report
// must stay readable (and bounded in memory under a fuzzer).
class Problems {
 public:
  void add(std::string line);
  std::vector<std::string> take() { return std::move(lines_); }

 private:
  static constexpr size_t kMax = 200;
  std::vector<std::string> lines_;
  size_t dropped_ = 0;
};

// The file and its usable directory, as every stream parser sees them.
struct Context {
  Bytes file;
  std::vector<std::pair<uint32_t, Bytes>> streams;  // valid entries, file order
  Problems* problems;
  // SystemInfo's ProcessorArchitecture; nullopt without a SystemInfo stream (then AMD64 is assumed).
  std::optional<uint16_t> architecture;

  std::optional<Bytes> first(uint32_t type) const;
  std::vector<Bytes> all(uint32_t type) const;
  void problem(std::string line) const { problems->add(std::move(line)); }
  std::optional<Bytes> at(uint64_t rva, uint64_t size) const { return slice(file, rva, size); }
  // A MINIDUMP_STRING at rva; records a problem naming `what` and returns nullopt if unusable.
  std::optional<std::string> string_at(uint64_t rva, const std::string& what) const;
  // A MINIDUMP_LOCATION_DESCRIPTOR's bytes; records a problem naming `what` if outside the file.
  std::optional<Bytes> location(const format::LocationDescriptor& loc, const std::string& what) const;
};

// Where the entries of a list stream are, after the stream's own checks.
struct ListLayout {
  uint64_t offset = 0;  // of the first entry, from the start of the stream
  uint64_t stride = 0;
  uint64_t count = 0;   // only the entries that lie wholly inside the stream
};

// A list whose header is a u32 count (ThreadList, ModuleList, MemoryList, ThreadNames): the
// entries follow at offset 4, or 8 when the producer padded the count to 8 bytes.
std::optional<ListLayout> counted_list(const Context& ctx, Bytes stream, uint64_t entry_size,
                                       const char* name);
// A list with SizeOfHeader / SizeOfEntry / NumberOfEntries (ThreadInfoList, MemoryInfoList,
// UnloadedModuleList, HandleData): checks the header's claims against the minimum sizes.
std::optional<ListLayout> sized_list(const Context& ctx, Bytes stream, uint64_t size_of_header,
                                     uint64_t size_of_entry, uint64_t count, uint64_t min_header,
                                     uint64_t min_entry, const char* name);

// UTF-16LE to UTF-8; unpaired surrogates become U+FFFD.
std::string utf16le_to_utf8(Bytes bytes);
// "ThreadList" or "0x47670042".
std::string stream_name(uint32_t type);
// A thread context at loc, recognised by its size (see ContextLayout) and decoded into the
// CONTEXT layout; the raw span beside it. Only a location outside the file is a problem.
struct ParsedContext {
  std::optional<format::ContextAmd64> registers;
  ContextLayout layout = ContextLayout::none;
  Bytes raw;
};
ParsedContext parse_context(const Context& ctx, const format::LocationDescriptor& loc, const std::string& what);

std::optional<SystemInfoView> parse_system_info(const Context& ctx);
std::optional<MiscInfoView> parse_misc_info(const Context& ctx);
std::vector<ThreadView> parse_threads(const Context& ctx);
std::vector<ExceptionView> parse_exceptions(const Context& ctx);
std::vector<ModuleView> parse_modules(const Context& ctx);
std::vector<UnloadedModuleView> parse_unloaded_modules(const Context& ctx);
std::vector<MemoryRange> parse_memory(const Context& ctx);
std::vector<MemoryInfoView> parse_memory_info(const Context& ctx);
std::vector<HandleView> parse_handles(const Context& ctx);
std::vector<TokenView> parse_tokens(const Context& ctx);
std::optional<DsoDebugView> parse_dso_debug(const Context& ctx);

// Everything a Minidump hands out, parsed once.
struct Parsed {
  std::shared_ptr<const void> storage;  // owns the mapping or the byte vector
  Bytes file;
  format::Header header{};
  std::vector<StreamEntry> streams;
  std::vector<std::pair<uint32_t, Bytes>> valid_streams;
  std::vector<std::string> problems;
  std::optional<SystemInfoView> system_info;
  std::optional<MiscInfoView> misc_info;
  std::vector<ThreadView> threads;
  std::vector<ModuleView> modules;
  std::vector<UnloadedModuleView> unloaded_modules;
  std::vector<MemoryRange> memory;
  // memory_reach[i]: the highest end of memory[0..i], so that read_memory finds a range holding
  // an address even when a later-starting, shorter one (a MemoryList stack inside a Memory64List
  // region) lies between them.
  std::vector<uint64_t> memory_reach;
  std::vector<MemoryInfoView> memory_info;
  std::vector<HandleView> handles;
  std::vector<ExceptionView> exceptions;
  std::vector<TokenView> tokens;
  std::optional<DsoDebugView> dso_debug;
};

// "truncated: ..." when the file ends before what its directory and memory lists describe.
std::optional<std::string> truncation_problem(const Parsed& p);

}  // namespace snapdump::reader::detail
