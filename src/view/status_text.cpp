#include "view/status_text.h"

#include <algorithm>
#include <cstdlib>
#include <string>

namespace snapdump::view {

std::string_view status_field(std::string_view status, std::string_view key) {
  size_t at = 0;
  while (at < status.size()) {
    size_t end = std::min(status.find('\n', at), status.size());
    std::string_view line = status.substr(at, end - at);
    if (line.size() > key.size() && line.substr(0, key.size()) == key && line[key.size()] == ':') {
      line.remove_prefix(key.size() + 1);
      while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) line.remove_prefix(1);
      return line;
    }
    at = end + 1;
  }
  return {};
}

long first_number(std::string_view value) {
  return std::strtol(std::string(value.substr(0, value.find_first_of(" \t"))).c_str(), nullptr, 10);
}

}  // namespace snapdump::view
