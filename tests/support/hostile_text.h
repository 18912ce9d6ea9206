// Names that break naive printers, and the check that output is safe to show on a terminal:
// for the tests of the CLI's printing rules (docs/names.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace snapdump::testing {

// Bytes that are not UTF-8, terminal escape sequences, C1 controls, bidirectional overrides,
// ill-formed UTF-8 of every kind, NULs and backslashes that look like escapes.
inline std::vector<std::string> hostile_names() {
  using namespace std::string_literals;
  return {
      "\xff\xfe" "bad",
      "path_\xff.bin",
      "esc_\x1b[2J\x1b[31m.bin",
      "\x1b]0;owned\x07title",
      "\x1b[31mred\x1b[0m",
      "csi_\xc2\x9b" "2J",
      "evil\xe2\x80\xaetxt.exe",
      "zero\xe2\x80\x8bwidth\xef\xbb\xbf",
      "\xc0\xaf overlong",
      "\xed\xa0\x80 surrogate",
      "\xf4\x90\x80\x80 too big",
      "truncated \xe2\x82",
      "\x80\x80 stray",
      "nul\0inside"s,
      "back\\slash \\xff \\u{202e} \\\\",
      "line\nbreak\rcarriage\ttab\x7f" "del",
      "valid \xd0\x96\xd1\x83\xd0\xba caf\xc3\xa9 \xf0\x9f\x98\x80",
      "",
      std::string(300, '\xff'),
  };
}

// "" when text is well-formed UTF-8 that holds no control character but newline and tab (so no ESC),
// no DEL, no C1 control and none of the invisible characters that reorder text; otherwise what
// was found first and where.
inline std::string terminal_safe_problem(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<uint8_t>(text[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7F) return fmt::format("control byte {:#04x} at {}", b, i);
      ++i;
      continue;
    }
    size_t length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC2 ? 2 : 0;
    if (length == 0 || b > 0xF4 || i + length > text.size()) return fmt::format("invalid UTF-8 at {}", i);
    uint32_t cp = b & (0xFF >> (length + 1));
    for (size_t k = 1; k < length; ++k) {
      const auto c = static_cast<uint8_t>(text[i + k]);
      if ((c & 0xC0) != 0x80) return fmt::format("invalid UTF-8 at {}", i);
      cp = (cp << 6) | (c & 0x3F);
    }
    const uint32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < minimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return fmt::format("invalid UTF-8 at {}", i);
    }
    if ((cp >= 0x80 && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) ||
        (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF) {
      return fmt::format("U+{:04X} at {}", cp, i);
    }
    i += length;
  }
  return "";
}

}  // namespace snapdump::testing
