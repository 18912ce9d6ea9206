// Small helpers shared by every part of the target that talks JSON to the test.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace sdtarget {

// Addresses go out as "0x..." strings: JSON numbers above 2^53 lose precision in many readers.
std::string hex(std::uint64_t value);
std::string hex(const void* pointer);

// Bytes as lowercase hex, lowest address first (the order they have in memory).
std::string hex_bytes(const std::uint8_t* data, std::size_t size);

// Writes one JSON document as one line to stdout. Raw write(2) rather than stdio so a signal
// or a tracer interrupting the call cannot leave half a line in a user-space buffer.
void write_json_line(const nlohmann::json& document);

// The same, with `first_key: true` put before every other key (nlohmann sorts keys, and the
// protocol promises that the READY line starts with {"ready":true).
void write_json_line_led_by(const char* first_key, const nlohmann::json& document);

}  // namespace sdtarget

namespace sdtarget {

// The fields every reported fd has: number, kind, and the inode fstat sees (which is the
// number inside "socket:[N]" / "pipe:[N]" links).
nlohmann::json fd_entry(int fd, const char* kind);

}  // namespace sdtarget
