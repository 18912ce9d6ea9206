// The two list shapes minidump streams use, with the checks they share: the count against the
// stream's size (never multiplied where it could wrap), and the producers' padding quirk.
#include <fmt/format.h>

#include "reader/parse.h"

namespace snapdump::reader::detail {

std::optional<ListLayout> counted_list(const Context& ctx, Bytes stream, uint64_t entry_size,
                                       const char* name) {
  auto count = load<uint32_t>(stream, 0);
  if (!count) {
    ctx.problem(fmt::format("{}: stream of {} bytes is too small for its count", name, stream.size()));
    return std::nullopt;
  }
  ListLayout layout{4, entry_size, *count};
  const uint64_t needed = 4 + uint64_t{*count} * entry_size;  // < 2^32 * 2^32: no wrap
  if (stream.size() == needed) return layout;
  // Old dbghelp and Breakpad pad the count to 8 bytes; LLVM and rust-minidump accept this.
  if (stream.size() == needed + 4) {
    layout.offset = 8;
    return layout;
  }
  const uint64_t fits = (stream.size() - 4) / entry_size;
  if (fits < *count) {
    ctx.problem(fmt::format("{}: count {} needs {} bytes but the stream has {}; reading {} entries",
                            name, *count, needed, stream.size(), fits));
    layout.count = fits;
  } else {
    ctx.problem(fmt::format("{}: stream is {} bytes, {} entries need {}; extra bytes ignored", name,
                            stream.size(), *count, needed));
  }
  return layout;
}

std::optional<ListLayout> sized_list(const Context& ctx, Bytes stream, uint64_t size_of_header,
                                     uint64_t size_of_entry, uint64_t count, uint64_t min_header,
                                     uint64_t min_entry, const char* name) {
  if (size_of_header < min_header || size_of_header > stream.size()) {
    ctx.problem(fmt::format("{}: SizeOfHeader {} is not between {} and the stream size {}", name,
                            size_of_header, min_header, stream.size()));
    return std::nullopt;
  }
  if (size_of_entry < min_entry) {
    ctx.problem(fmt::format("{}: SizeOfEntry {} is smaller than an entry ({})", name, size_of_entry,
                            min_entry));
    return std::nullopt;
  }
  const uint64_t fits = (stream.size() - size_of_header) / size_of_entry;
  ListLayout layout{size_of_header, size_of_entry, count};
  if (count > fits) {
    ctx.problem(fmt::format("{}: {} entries of {} bytes do not fit in the stream ({} bytes); reading {}",
                            name, count, size_of_entry, stream.size(), fits));
    layout.count = fits;
  }
  return layout;
}

}  // namespace snapdump::reader::detail
