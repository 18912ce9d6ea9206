// Small, bounds-checked helpers for scanning the text of /proc files. Kernel formats change
// between versions and some fields (comm, paths) are user-controlled, so every helper fails
// softly (nullopt / empty) instead of assuming a shape.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>

namespace snapdump::os::text {

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Takes the next whitespace-separated token off the front of `s` ("" when none is left).
inline std::string_view next_token(std::string_view& s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  size_t n = 0;
  while (n < s.size() && !is_space(s[n])) ++n;
  std::string_view token = s.substr(0, n);
  s.remove_prefix(n);
  return token;
}

// Takes the next line off the front of `s`, without its '\n'.
inline std::string_view next_line(std::string_view& s) noexcept {
  size_t n = s.find('\n');
  std::string_view line = s.substr(0, n);
  s.remove_prefix(n == std::string_view::npos ? s.size() : n + 1);
  return line;
}

// The whole token must be a number; an optional "0x" is accepted in base 16.
inline std::optional<uint64_t> parse_u64(std::string_view s, int base = 10) noexcept {
  if (base == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

inline std::optional<int64_t> parse_i64(std::string_view s) noexcept {
  if (s.empty()) return std::nullopt;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, 10);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Splits "Key:   value" at the first ':'; false when the line has no ':'.
inline bool split_key_value(std::string_view line, std::string_view& key,
                            std::string_view& value) noexcept {
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return false;
  key = trim(line.substr(0, colon));
  value = trim(line.substr(colon + 1));
  return true;
}

// "1234 kB" (or a bare number) to bytes; saturates instead of overflowing.
inline std::optional<uint64_t> parse_kb_as_bytes(std::string_view value) noexcept {
  std::string_view rest = value;
  auto number = parse_u64(next_token(rest));
  if (!number) return std::nullopt;
  if (*number > UINT64_MAX / 1024) return UINT64_MAX;
  return *number * 1024;
}

// Value of the first line starting with `key` + ':' in a "Key: value" file.
inline std::optional<std::string_view> find_field(std::string_view text,
                                                  std::string_view key) noexcept {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    std::string_view k, v;
    if (split_key_value(line, k, v) && k == key) return v;
  }
  return std::nullopt;
}

}  // namespace snapdump::os::text
