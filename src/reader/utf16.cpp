// UTF-16LE to UTF-8 for MINIDUMP_STRINGs and CommentW. Never fails: a producer bug in a name
// must not hide the rest of the dump, so unpaired surrogates become U+FFFD.
#include "common/utf8.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

std::string utf16le_to_utf8(Bytes bytes) {
  constexpr uint32_t kReplacement = 0xFFFD;
  std::string out;
  out.reserve(bytes.size() / 2);
  const size_t units = bytes.size() / 2;  // a trailing odd byte is the caller's to report
  auto unit = [&](size_t i) -> uint32_t { return bytes[2 * i] | (uint32_t{bytes[2 * i + 1]} << 8); };
  for (size_t i = 0; i < units; ++i) {
    uint32_t u = unit(i);
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (i + 1 < units) {
        uint32_t low = unit(i + 1);
        if (low >= 0xDC00 && low <= 0xDFFF) {
          common::append_utf8(out, 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
          ++i;
          continue;
        }
      }
      common::append_utf8(out, kReplacement);
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      common::append_utf8(out, kReplacement);
    } else {
      common::append_utf8(out, u);
    }
  }
  return out;
}

}  // namespace snapdump::reader::detail
