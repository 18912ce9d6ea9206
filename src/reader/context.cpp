// The checked view of the file that every stream parser goes through: locations, strings and
// the problem log.
#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

namespace {
// No path or name a producer writes comes near this; a larger length is corruption, and
// refusing it keeps a hostile file from making us allocate whole-file strings per entry.
constexpr uint32_t kMaxStringBytes = 256 * 1024;
}  // namespace

void Problems::add(std::string line) {
  if (lines_.size() < kMax) {
    lines_.push_back(std::move(line));
    return;
  }
  ++dropped_;
  std::string summary = fmt::format("... and {} more problems", dropped_);
  if (lines_.size() == kMax) {
    lines_.push_back(std::move(summary));
  } else {
    lines_.back() = std::move(summary);
  }
}

std::optional<Bytes> Context::first(uint32_t type) const {
  for (const auto& [t, bytes] : streams) {
    if (t == type) return bytes;
  }
  return std::nullopt;
}

std::vector<Bytes> Context::all(uint32_t type) const {
  std::vector<Bytes> out;
  for (const auto& [t, bytes] : streams) {
    if (t == type) out.push_back(bytes);
  }
  return out;
}

std::optional<std::string> Context::string_at(uint64_t rva, const std::string& what) const {
  auto length = load<uint32_t>(file, rva);
  if (!length) {
    problem(fmt::format("{} RVA {:#x} outside the file", what, rva));
    return std::nullopt;
  }
  if (*length % 2 != 0) {
    problem(fmt::format("{} at RVA {:#x} has an odd UTF-16 length ({} bytes)", what, rva, *length));
    return std::nullopt;
  }
  if (*length > kMaxStringBytes) {
    problem(fmt::format("{} at RVA {:#x} claims {} bytes, more than the {} a string may have", what,
                        rva, *length, kMaxStringBytes));
    return std::nullopt;
  }
  auto chars = slice(file, rva + 4, *length);
  if (!chars) {
    problem(fmt::format("{} at RVA {:#x} ({} bytes) runs past the end of the file", what, rva,
                        *length));
    return std::nullopt;
  }
  return utf16le_to_utf8(*chars);
}

std::optional<Bytes> Context::location(const format::LocationDescriptor& loc,
                                       const std::string& what) const {
  auto bytes = at(loc.rva, loc.data_size);
  if (!bytes) {
    problem(fmt::format("{} ({} bytes at RVA {:#x}) outside the file", what, loc.data_size, loc.rva));
  }
  return bytes;
}

std::string stream_name(uint32_t type) {
  if (const char* name = format::stream_type_name(type)) return name;
  return fmt::format("{:#010x}", type);
}

}  // namespace snapdump::reader::detail
