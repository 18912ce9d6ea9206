// Output of a dump to a path, whole or absent: bytes go to a temporary file beside the target
// path, the header's signature is written last, and only a complete, synced file is renamed
// into place. Destroying an uncommitted sink removes the temporary file.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace snapdump::writer {

class FileSink {
 public:
  explicit FileSink(const std::string& path);
  ~FileSink();
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  // Appends at the end; returns the offset written at.
  uint64_t append(std::span<const uint8_t> bytes);
  // Writes at an offset already written (patching a directory entry, the signature).
  void write_at(uint64_t offset, std::span<const uint8_t> bytes);
  uint64_t size() const { return size_; }
  // Syncs and renames into place.
  void commit();

 private:
  [[noreturn]] void fail(const char* what, int err) const;
  std::string path_, temp_path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  bool committed_ = false;
};

}  // namespace snapdump::writer
