#include "name_escape.h"

#include <cstdint>

#include <fmt/format.h>

#include "common/utf8.h"

namespace snapdump::cli {
namespace {

// The length of the well-formed UTF-8 sequence at the start of s (Unicode's table 3-7), its
// code point in cp; 0 when the first byte does not begin one.
size_t utf8_sequence(std::string_view s, uint32_t& cp) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(0);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t length;
  uint8_t low = 0x80, high = 0xBF;  // the range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;   // no overlong forms
    if (b0 == 0xED) high = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length) return 0;
  if (byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
  }
  cp = b0 & (0xFF >> (length + 1));
  for (size_t i = 1; i < length; ++i) cp = (cp << 6) | (byte(i) & 0x3F);
  return length;
}

// Characters a terminal acts on or that change how the text around them looks: C0 and DEL, C1
// controls (U+009B is CSI in terminals that take 8-bit controls), zero-width characters, the
// bidirectional embeddings, overrides and isolates, the line and paragraph separators, and the
// byte-order mark.
bool is_unsafe(uint32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0x200B && cp <= 0x200F) ||
         (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) || cp == 0xFEFF;
}


int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Every string and key of the document through json_display: the fallback that makes
// json_text total even for a document not built with put_name.
nlohmann::json displayable(const nlohmann::json& j) {
  if (j.is_string()) return json_display(j.get_ref<const std::string&>());
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : j) out.push_back(displayable(e));
    return out;
  }
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : j.items()) out[json_display(key)] = displayable(value);
    return out;
  }
  return j;
}

}  // namespace

bool is_utf8(std::string_view bytes) {
  uint32_t cp;
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_sequence(bytes.substr(i), cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string escape_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    uint32_t cp = 0;
    size_t n = utf8_sequence(bytes.substr(i), cp);
    if (n == 0 || cp < 0x20 || cp == 0x7F) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(bytes[i]));
      ++i;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (is_unsafe(cp)) {
      out += fmt::format("\\u{{{:04x}}}", cp);
    } else {
      out.append(bytes.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string escape_lines(std::string_view text) {
  std::string out;
  size_t at = 0;
  for (;;) {
    size_t end = text.find('\n', at);
    out += escape_text(text.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
    if (end == std::string_view::npos) return out;
    out += '\n';
    at = end + 1;
  }
}

std::string unescape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char kind = text[i + 1];
    if (kind == '\\') {
      out += '\\';
      ++i;
    } else if (kind == 'x' && i + 3 < text.size() && hex_digit(text[i + 2]) >= 0 && hex_digit(text[i + 3]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 2]) * 16 + hex_digit(text[i + 3]));
      i += 3;
    } else if (kind == 'u' && i + 2 < text.size() && text[i + 2] == '{') {
      size_t close = text.find('}', i + 3);
      uint32_t cp = 0;
      bool ok = close != std::string_view::npos && close > i + 3 && close - (i + 3) <= 6;
      for (size_t k = i + 3; ok && k < close; ++k) {
        int d = hex_digit(text[k]);
        ok = d >= 0;
        cp = cp * 16 + static_cast<uint32_t>(d);
      }
      if (ok && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) {
        common::append_utf8(out, cp);
        i = close;
      } else {
        out += text[i];
      }
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = std::min<size_t>(3, bytes.size() - i);
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k) group = (group << 8) | (k < n ? static_cast<uint8_t>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out += k <= n ? kBase64[(group >> (18 - 6 * k)) & 0x3F] : '=';
  }
  return out;
}

bool from_base64(std::string_view text, std::string& bytes) {
  bytes.clear();
  if (text.size() % 4 != 0) return false;
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t group = 0;
    size_t padding = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      uint32_t value = 0;
      if (c == '=' && i + 4 == text.size() && k >= 2) {
        ++padding;
      } else {
        const char* at = padding ? nullptr : std::char_traits<char>::find(kBase64, 64, c);
        if (!at) return false;
        value = static_cast<uint32_t>(at - kBase64);
      }
      group = (group << 6) | value;
    }
    for (size_t k = 0; k < 3 - padding; ++k) bytes += static_cast<char>((group >> (16 - 8 * k)) & 0xFF);
  }
  return true;
}

std::string json_display(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    uint32_t cp;
    size_t n = utf8_sequence(bytes.substr(i), cp);
    if (n == 0) {
      out += fmt::format("\\x{:02x}", static_cast<uint8_t>(bytes[i]));
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

void put_name(nlohmann::json& object, const std::string& key, std::string_view bytes) {
  if (is_utf8(bytes)) {
    object[key] = std::string(bytes);
    return;
  }
  object[key] = json_display(bytes);
  object[key + "_base64"] = base64(bytes);
}

std::string json_text(const nlohmann::json& document, int indent) {
  std::string raw;
  try {
    raw = document.dump(indent);
  } catch (const nlohmann::json::exception&) {
    raw = displayable(document).dump(indent);
  }
  // Outside strings a JSON text is ASCII without DEL, so every character changed here lies in
  // a string, where \uXXXX means the same character.
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    uint32_t cp = 0;
    size_t n = utf8_sequence(std::string_view(raw).substr(i), cp);
    if (n == 0) n = 1;  // cannot happen: dump() wrote valid UTF-8
    if (cp >= 0x20 && is_unsafe(cp)) {
      out += fmt::format("\\u{:04x}", cp);
    } else {
      out.append(raw, i, n);
    }
    i += n;
  }
  return out;
}

}  // namespace snapdump::cli
