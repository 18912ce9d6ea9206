// Finding an XSAVE feature in a CONTEXT_EX-form context. Every offset comes from the file, so
// each is checked against the blob before it is used.
#include <cstring>

#include "snapdump/format/constants.h"
#include "snapdump/reader.h"

namespace snapdump::reader {

std::optional<std::vector<uint8_t>> xstate_feature(std::span<const uint8_t> context, const MiscInfoView& misc,
                                                   unsigned feature) {
  constexpr size_t kContext = sizeof(format::ContextAmd64);
  constexpr size_t kLegacyArea = 512;  // the XSAVE layout's FXSAVE image, which the XState chunk omits
  constexpr size_t kHeader = 64;
  if (feature < 2 || feature >= 64 || context.size() < kContext + sizeof(format::ContextEx)) return std::nullopt;
  if (!misc.xstate_enabled_features || !(*misc.xstate_enabled_features & (uint64_t{1} << feature))) return std::nullopt;
  format::ContextAmd64 c;
  std::memcpy(&c, context.data(), sizeof c);
  if ((c.context_flags & format::context_flags::kXState) != format::context_flags::kXState) return std::nullopt;
  format::ContextEx ex;
  std::memcpy(&ex, context.data() + kContext, sizeof ex);
  int64_t xstate_at = static_cast<int64_t>(kContext) + ex.xstate.offset;
  if (xstate_at < 0 || static_cast<uint64_t>(xstate_at) + ex.xstate.length > context.size() ||
      ex.xstate.length < kHeader) {
    return std::nullopt;
  }
  std::span<const uint8_t> xstate = context.subspan(static_cast<size_t>(xstate_at), ex.xstate.length);
  const format::XStateFeature& where = misc.xstate_features[feature];
  if (where.offset < kLegacyArea + kHeader || where.size == 0 ||
      where.offset - kLegacyArea + uint64_t{where.size} > xstate.size()) {
    return std::nullopt;
  }
  uint64_t xstate_bv;
  std::memcpy(&xstate_bv, xstate.data(), sizeof xstate_bv);
  if (!(xstate_bv & (uint64_t{1} << feature))) return std::vector<uint8_t>(where.size, 0);
  auto bytes = xstate.subspan(where.offset - kLegacyArea, where.size);
  return std::vector<uint8_t>(bytes.begin(), bytes.end());
}

}  // namespace snapdump::reader
