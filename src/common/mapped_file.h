// A file mapped read-only, whole, for the readers of dump files (a minidump, an ELF core): they
// parse it in place and keep `storage` for as long as their results point into it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace snapdump {

struct MappedFile {
  std::shared_ptr<const void> storage;  // unmaps the file when the last holder lets go
  std::span<const uint8_t> bytes;
};

// Maps `path`. Throws snapdump::Error: permission_denied or io_error when it cannot be opened,
// stat'ed or mapped; corrupt_input "PATH is not a regular file: not KIND" or "PATH is empty:
// not KIND" (KIND: "a minidump", "an ELF core").
MappedFile map_file(const std::string& path, const char* kind);

}  // namespace snapdump
