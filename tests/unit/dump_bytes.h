// Minidumps built byte by byte for the reader's tests, so that they do not depend on the writer
// agreeing with the reader; and the fuzzer's seed corpus, which those dumps become.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"

namespace snapdump::reader {

using format::StreamType;

// Appends structs and strings, and lays out a header plus a fixed-size directory whose unused
// slots stay zero (the Unused quirk every reader must accept).
class Builder {
 public:
  explicit Builder(uint32_t slots = 20) : slots_(slots) {
    buf_.resize(sizeof(format::Header) + slots * sizeof(format::Directory));
  }
  template <class T>
  uint32_t put(const T& value) {
    return put_bytes(&value, sizeof(T));
  }
  uint32_t put_bytes(const void* data, size_t size) {
    auto rva = static_cast<uint32_t>(buf_.size());
    auto p = static_cast<const uint8_t*>(data);
    buf_.insert(buf_.end(), p, p + size);
    return rva;
  }
  uint32_t put_string(const std::u16string& s) {
    uint32_t rva = put(static_cast<uint32_t>(s.size() * 2));
    put_bytes(s.data(), s.size() * 2);
    return rva;
  }
  uint32_t here() const { return static_cast<uint32_t>(buf_.size()); }
  void stream(StreamType type, uint32_t rva, uint32_t size) {
    ASSERT_LT(used_, slots_);
    format::Directory d{static_cast<uint32_t>(type), {size, rva}};
    std::memcpy(&buf_[sizeof(format::Header) + used_++ * sizeof(d)], &d, sizeof(d));
  }
  // Appends what body() puts and makes it a stream.
  template <class F>
  void stream(StreamType type, F body) {
    uint32_t rva = here();
    body();
    stream(type, rva, here() - rva);
  }
  std::vector<uint8_t> finish() {
    format::Header h{format::kSignature, format::kVersion, slots_, sizeof(format::Header), 0, 0, 0};
    std::memcpy(buf_.data(), &h, sizeof(h));
    return buf_;
  }

 private:
  uint32_t slots_;
  uint32_t used_ = 0;
  std::vector<uint8_t> buf_;
};

template <class T>
void patch(std::vector<uint8_t>& bytes, size_t offset, T value) {
  ASSERT_LE(offset + sizeof(T), bytes.size());
  std::memcpy(&bytes[offset], &value, sizeof(T));
}

// The fuzzer's seed corpus: every dump these tests build, when SNAPDUMP_FUZZ_SEEDS names a dir.
inline void seed(const std::string& name, const std::vector<uint8_t>& bytes) {
  const char* dir = std::getenv("SNAPDUMP_FUZZ_SEEDS");
  if (!dir || !*dir) return;
  std::filesystem::create_directories(dir);
  std::ofstream(std::filesystem::path(dir) / (name + ".dmp"), std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace snapdump::reader
