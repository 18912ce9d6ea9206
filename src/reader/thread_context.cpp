// Thread contexts in the layouts other writers use. The AMD64 CONTEXT carries no size or
// version of its own, so the size the directory gives is what tells them apart:
//   1232 bytes        CONTEXT (Windows, Breakpad, Crashpad, snapdump)
//   more than 1232    CONTEXT then CONTEXT_EX and XSAVE data, or another extension: the first
//                     1232 bytes are the CONTEXT (Breakpad's processor reads them the same way)
//   720 bytes         LLDB 16's MinidumpContext_x86_64: the CONTEXT up to rip, then straight on
//                     from VectorRegister (its FltSave union is declared but is not a member)
//   736 bytes         later LLDB: the same plus fs_base and gs_base, flagged 0x80000000
// Anything else is an unknown layout: reported on the thread, not as a problem of the file.
#include <cstddef>
#include <cstring>

#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader {

const char* to_string(ContextLayout layout) noexcept {
  switch (layout) {
    case ContextLayout::none: return "none";
    case ContextLayout::amd64: return "amd64";
    case ContextLayout::amd64_extended: return "amd64-extended";
    case ContextLayout::lldb: return "lldb";
    case ContextLayout::lldb_with_bases: return "lldb-with-bases";
    case ContextLayout::unknown: return "unknown";
  }
  return "unknown";
}

std::string describe_context(ContextLayout layout, size_t size) {
  if (layout == ContextLayout::none) return "no context";
  if (layout == ContextLayout::unknown) return fmt::format("unknown layout, {} bytes", size);
  return fmt::format("{}, {} bytes", to_string(layout), size);
}

namespace detail {
namespace {

using format::ContextAmd64;

constexpr size_t kContextSize = sizeof(ContextAmd64);
constexpr size_t kFltSaveAt = offsetof(ContextAmd64, flt_save);        // 0x100: just after rip
constexpr size_t kVectorAt = offsetof(ContextAmd64, vector_register);  // 0x300
constexpr size_t kLldbSize = kContextSize - (kVectorAt - kFltSaveAt);  // 720
constexpr size_t kLldbWithBasesSize = kLldbSize + 2 * sizeof(uint64_t);
static_assert(kFltSaveAt == 0x100 && kVectorAt == 0x300 && kLldbSize == 720);

// The CONTEXT_* CPU identifiers live in bits 8-23 (i386 0x10000, AMD64 0x100000, ARM64
// 0x400000, ...); bits 24-31 are the exception-reporting flags, and LLDB's own bit 31.
constexpr uint32_t kCpuBits = 0x00FFFF00;
constexpr uint32_t kLldbSpecific = 0x80000000;
constexpr uint32_t kFloatingPointBit = format::context_flags::kFloatingPoint & ~format::context_flags::kAmd64;

}  // namespace

ParsedContext parse_context(const Context& ctx, const format::LocationDescriptor& loc, const std::string& what) {
  ParsedContext out;
  if (loc.data_size == 0) return out;
  auto bytes = ctx.location(loc, what);
  if (!bytes) return out;
  out.raw = *bytes;
  out.layout = ContextLayout::unknown;
  if (ctx.architecture && *ctx.architecture != format::kArchitectureAmd64) return out;
  const size_t size = bytes->size();
  if (size < kLldbSize) return out;
  uint32_t flags;
  std::memcpy(&flags, bytes->data() + offsetof(ContextAmd64, context_flags), sizeof flags);
  const bool names_amd64 = (flags & format::context_flags::kAmd64) != 0;
  const bool names_no_cpu = (flags & kCpuBits) == 0;
  ContextAmd64 c{};
  if (size >= kContextSize && (names_amd64 || names_no_cpu)) {
    std::memcpy(&c, bytes->data(), kContextSize);
    // Older Breakpad writers left the CPU type out; Breakpad's processor adds it from SystemInfo.
    c.context_flags |= format::context_flags::kAmd64;
    out.layout = size == kContextSize ? ContextLayout::amd64 : ContextLayout::amd64_extended;
  } else if ((size == kLldbSize || size == kLldbWithBasesSize) && names_amd64) {
    auto* to = reinterpret_cast<uint8_t*>(&c);
    std::memcpy(to, bytes->data(), kFltSaveAt);
    std::memcpy(to + kVectorAt, bytes->data() + kFltSaveAt, kContextSize - kVectorAt);
    c.context_flags &= ~(kFloatingPointBit | kLldbSpecific);
    out.layout = size == kLldbSize ? ContextLayout::lldb : ContextLayout::lldb_with_bases;
  } else {
    return out;
  }
  out.registers = c;
  return out;
}

}  // namespace detail
}  // namespace snapdump::reader
