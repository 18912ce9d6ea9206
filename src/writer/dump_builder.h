// The part of a dump that is built in memory: header, directory and every stream but the bulk
// memory of a full dump (that is streamed from the snapshot straight to the file, after this
// image). Offsets in the image are the file's RVAs.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"

namespace snapdump::writer {

class DumpBuilder {
 public:
  // Lays out the header and a directory of `stream_slots` entries; unused slots stay
  // type Unused with size 0, which every reader skips.
  DumpBuilder(uint32_t stream_slots, uint64_t dump_flags, uint32_t time_date_stamp);

  // Appends bytes aligned to `align`; returns their RVA.
  uint32_t append(const void* data, size_t size, size_t align = 4);
  template <class T>
  uint32_t append(const T& value) {
    return append(&value, sizeof value);
  }
  // Reserves zeroed bytes to be patched later; returns their RVA.
  uint32_t reserve(size_t size, size_t align = 4);
  template <class T>
  void patch(uint32_t rva, const T& value) {
    std::memcpy(image_.data() + rva, &value, sizeof value);
  }
  template <class T>
  T read(uint32_t rva) const {
    T value;
    std::memcpy(&value, image_.data() + rva, sizeof value);
    return value;
  }
  // A MINIDUMP_STRING (UTF-16LE, byte length first, NUL-terminated); returns its RVA.
  uint32_t append_string(std::string_view utf8);

  // A list stream of the common form: a 32-bit count, then the entries. Adds its entry.
  template <class T>
  void add_list_stream(format::StreamType type, const std::vector<T>& entries) {
    uint32_t count = static_cast<uint32_t>(entries.size());
    uint32_t rva = append(count);
    append(entries.data(), entries.size() * sizeof(T));
    add_stream(type, rva, static_cast<uint32_t>(4 + entries.size() * sizeof(T)));
  }

  // Adds a directory entry. Throws Error(internal) if the type is already present (readers
  // such as LLDB reject a file with two streams of one type) or the directory is full.
  void add_stream(format::StreamType type, uint32_t rva, uint32_t size);
  // Points an existing directory entry elsewhere (the Memory64List once its size is known).
  void set_stream_size(format::StreamType type, uint32_t size);
  uint32_t stream_count() const { return streams_; }

  uint32_t size() const { return static_cast<uint32_t>(image_.size()); }
  const std::vector<uint8_t>& bytes() const { return image_; }

 private:
  std::vector<uint8_t> image_;
  uint32_t slots_;
  uint32_t streams_ = 0;
};

// UTF-8 to UTF-16LE; an invalid byte becomes U+FFFD. File names are bytes on Linux: this keeps
// every valid name exact and never fails on another.
std::u16string utf8_to_utf16(std::string_view utf8);

}  // namespace snapdump::writer
