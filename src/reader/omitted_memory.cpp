// SnapdumpOmittedMemory: "START-END REASON[ PATH]\n" lines (src/writer/omitted_memory_stream.cpp).
// The stream comes from a file nobody vouches for: a line that does not have that shape is
// handed back whole rather than dropped, so a reader shows what it could not parse.
#include <charconv>
#include <string_view>

#include "snapdump/format/constants.h"
#include "snapdump/reader.h"

namespace snapdump::reader {
namespace {

bool parse_hex(std::string_view text, uint64_t& out) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return false;
  auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), out, 16);
  return ec == std::errc() && end == text.data() + text.size();
}

OmittedMemoryView parse_line(std::string_view line) {
  OmittedMemoryView v;
  size_t dash = line.find('-'), space = line.find(' ');
  if (dash != std::string_view::npos && space != std::string_view::npos && dash < space &&
      parse_hex(line.substr(0, dash), v.start) && parse_hex(line.substr(dash + 1, space - dash - 1), v.end) &&
      v.start < v.end) {
    std::string_view rest = line.substr(space + 1);
    size_t gap = rest.find(' ');
    v.reason = std::string(rest.substr(0, gap));
    if (gap != std::string_view::npos) v.path = std::string(rest.substr(gap + 1));
    if (!v.reason.empty()) return v;
  }
  return {0, 0, "unparsed", std::string(line)};
}

}  // namespace

std::vector<OmittedMemoryView> Minidump::omitted_memory() const {
  std::vector<OmittedMemoryView> out;
  auto text = text_stream(static_cast<uint32_t>(format::StreamType::SnapdumpOmittedMemory));
  if (!text) return out;
  std::string_view rest = *text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    if (!line.empty()) out.push_back(parse_line(line));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace snapdump::reader
