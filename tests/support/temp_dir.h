// A fresh directory of a test's own, removed with everything in it when the test ends: whatever
// is in it afterwards, the test put there or the code under test left behind.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "support/target_process.h"

namespace snapdump::testing {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& name) : path(temp_dump_path(name + "-dir")) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path + "/" + name; }
  // The names in it, sorted.
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace snapdump::testing
