#include "writer/dump_builder.h"

#include <fmt/format.h>

#include "snapdump/error.h"

namespace snapdump::writer {

DumpBuilder::DumpBuilder(uint32_t stream_slots, uint64_t dump_flags, uint32_t time_date_stamp)
    : slots_(stream_slots) {
  format::Header header{};
  // The signature is written last, by the writer, once the whole file is on disk: a dump cut
  // short never looks like a minidump.
  header.signature = 0;
  header.version = format::kVersion;
  header.number_of_streams = stream_slots;
  header.stream_directory_rva = sizeof(format::Header);
  header.time_date_stamp = time_date_stamp;
  header.flags = dump_flags;
  append(header);
  reserve(sizeof(format::Directory) * stream_slots);
}

uint32_t DumpBuilder::reserve(size_t size, size_t align) {
  size_t at = (image_.size() + align - 1) / align * align;
  if (at + size > 0xffffffffu) {
    throw Error(Errc::invalid_argument, "the dump's streams exceed the 4 GiB that 32-bit RVAs address");
  }
  image_.resize(at + size, 0);
  return static_cast<uint32_t>(at);
}

uint32_t DumpBuilder::append(const void* data, size_t size, size_t align) {
  uint32_t rva = reserve(size, align);
  if (size) std::memcpy(image_.data() + rva, data, size);
  return rva;
}

uint32_t DumpBuilder::append_string(std::string_view utf8) {
  std::u16string text = utf8_to_utf16(utf8);
  uint32_t length = static_cast<uint32_t>(text.size() * 2);
  uint32_t rva = append(length);
  append(text.data(), text.size() * 2, 2);
  uint16_t nul = 0;
  append(&nul, 2, 2);
  return rva;
}

void DumpBuilder::add_stream(format::StreamType type, uint32_t rva, uint32_t size) {
  uint32_t dir = sizeof(format::Header);
  for (uint32_t i = 0; i < streams_; ++i) {
    if (read<format::Directory>(dir + i * sizeof(format::Directory)).stream_type == static_cast<uint32_t>(type)) {
      throw Error(Errc::internal, fmt::format("stream {} written twice", format::stream_type_name(static_cast<uint32_t>(type))));
    }
  }
  if (streams_ == slots_) throw Error(Errc::internal, "minidump directory is full");
  patch(dir + streams_ * sizeof(format::Directory), format::Directory{static_cast<uint32_t>(type), {size, rva}});
  ++streams_;
}

void DumpBuilder::set_stream_size(format::StreamType type, uint32_t size) {
  uint32_t dir = sizeof(format::Header);
  for (uint32_t i = 0; i < streams_; ++i) {
    auto entry = read<format::Directory>(dir + i * sizeof(format::Directory));
    if (entry.stream_type == static_cast<uint32_t>(type)) {
      entry.location.data_size = size;
      patch(dir + i * sizeof(format::Directory), entry);
      return;
    }
  }
}

std::u16string utf8_to_utf16(std::string_view s) {
  std::u16string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    auto cont = [&](size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
    if (b < 0x80) {
      cp = b;
    } else if ((b & 0xE0) == 0xC0 && cont(1)) {
      cp = ((b & 0x1Fu) << 6) | (s[i + 1] & 0x3F);
      len = cp >= 0x80 ? 2 : 1;
      if (len == 1) cp = 0xFFFD;
    } else if ((b & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      cp = ((b & 0x0Fu) << 12) | ((s[i + 1] & 0x3Fu) << 6) | (s[i + 2] & 0x3F);
      len = (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ? 3 : 1;
      if (len == 1) cp = 0xFFFD;
    } else if ((b & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      cp = ((b & 0x07u) << 18) | ((s[i + 1] & 0x3Fu) << 12) | ((s[i + 2] & 0x3Fu) << 6) | (s[i + 3] & 0x3F);
      len = (cp >= 0x10000 && cp <= 0x10FFFF) ? 4 : 1;
      if (len == 1) cp = 0xFFFD;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

}  // namespace snapdump::writer
