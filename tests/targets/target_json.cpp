#include "target_json.h"

#include <cerrno>
#include <cstdio>
#include <unistd.h>

namespace sdtarget {

std::string hex(std::uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(value));
  return buffer;
}

std::string hex(const void* pointer) {
  return hex(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(pointer)));
}

std::string hex_bytes(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text;
  text.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    text.push_back(digits[data[i] >> 4]);
    text.push_back(digits[data[i] & 0xF]);
  }
  return text;
}

namespace {

void write_all(std::string line) {
  line.push_back('\n');
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    // The reader went away: nobody is left to talk to, so stop quietly.
    if (n <= 0) _exit(3);
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void write_json_line(const nlohmann::json& document) { write_all(document.dump()); }

void write_json_line_led_by(const char* first_key, const nlohmann::json& document) {
  nlohmann::json rest = document;
  rest.erase(first_key);
  std::string body = rest.dump();  // "{...}" of the other keys
  std::string line = nlohmann::json(first_key).dump() + ":true";
  if (body.size() > 2) line += "," + body.substr(1, body.size() - 2);
  write_all("{" + line + "}");
}

}  // namespace sdtarget

#include <sys/stat.h>

namespace sdtarget {

nlohmann::json fd_entry(int fd, const char* kind) {
  nlohmann::json entry{{"fd", fd}, {"kind", kind}};
  struct stat status {};
  if (fstat(fd, &status) == 0) entry["inode"] = static_cast<std::uint64_t>(status.st_ino);
  return entry;
}

}  // namespace sdtarget
