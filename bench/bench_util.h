// What the benchmarks share: their list arguments ("16,64") and medians.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace snapdump::bench {

inline std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  std::string text(s);
  size_t at = 0;
  while (at < text.size()) {
    size_t comma = text.find(',', at);
    out.push_back(std::stoi(text.substr(at, comma - at)));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace snapdump::bench
