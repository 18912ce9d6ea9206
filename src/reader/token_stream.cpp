// The Token stream: a header, then entries of a header and TokenSize - header bytes each. The
// sizes come from the file, so every entry is bounded by the stream and by what remains of it.
#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

std::vector<TokenView> parse_tokens(const Context& ctx) {
  std::vector<TokenView> out;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::Token));
  if (!stream) return out;
  auto h = load<format::TokenInfoListHeader>(*stream, 0);
  if (!h) {
    ctx.problem(fmt::format("Token: stream of {} bytes is too small for its header", stream->size()));
    return out;
  }
  if (h->list_header_size < sizeof(format::TokenInfoListHeader) || h->list_header_size > stream->size() ||
      h->element_header_size < sizeof(format::TokenInfoHeader)) {
    ctx.problem(fmt::format("Token: header sizes {} / {} are not usable", h->list_header_size, h->element_header_size));
    return out;
  }
  uint64_t at = h->list_header_size;
  for (uint32_t i = 0; i < h->token_list_entries; ++i) {
    auto e = load<format::TokenInfoHeader>(*stream, at);
    if (!e || e->token_size < h->element_header_size || at + e->token_size > stream->size()) {
      ctx.problem(fmt::format("Token: entry {} of {} does not fit in the stream; the rest are skipped", i,
                              h->token_list_entries));
      break;
    }
    out.push_back({e->token_id, e->token_handle,
                   stream->subspan(at + h->element_header_size, e->token_size - h->element_header_size)});
    at += e->token_size;
  }
  return out;
}

}  // namespace snapdump::reader::detail
