#include "target_libs.h"

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <fstream>
#include <string>
#include <unistd.h>

#include "target_json.h"

namespace sdtarget {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "snapdump_target: %s\n", what.c_str());
  std::exit(1);
}

// The libraries are built next to the executable, wherever the build directory is.
std::string own_directory() {
  char path[PATH_MAX] = {};
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n < 0) fail("readlink /proc/self/exe");
  std::string text(path, static_cast<std::size_t>(n));
  return text.substr(0, text.rfind('/'));
}

bool mapped(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);)
    if (line.ends_with(path)) return true;
  return false;
}

using Answer = int (*)();

}  // namespace

nlohmann::json load_libraries() {
  const std::string directory = own_directory();
  const std::string plugin_path = directory + "/libsnapdump_target_plugin.so";
  const std::string unloaded_path = directory + "/libsnapdump_target_unloaded.so";

  void* plugin = dlopen(plugin_path.c_str(), RTLD_NOW);
  if (plugin == nullptr) fail(std::string("dlopen: ") + dlerror());
  auto plugin_answer = reinterpret_cast<Answer>(dlsym(plugin, "snapdump_plugin_answer"));
  if (plugin_answer == nullptr) fail(std::string("dlsym: ") + dlerror());
  // Deliberately never closed.

  void* unloaded = dlopen(unloaded_path.c_str(), RTLD_NOW);
  if (unloaded == nullptr) fail(std::string("dlopen: ") + dlerror());
  auto unloaded_answer = reinterpret_cast<Answer>(dlsym(unloaded, "snapdump_unloaded_answer"));
  if (unloaded_answer == nullptr) fail(std::string("dlsym: ") + dlerror());
  const int unloaded_value = unloaded_answer();
  if (dlclose(unloaded) != 0) fail(std::string("dlclose: ") + dlerror());

  return {{"plugin",
           {{"path", plugin_path},
            {"loaded", true},
            {"answer", plugin_answer()},
            {"function", hex(reinterpret_cast<const void*>(plugin_answer))}}},
          {"unloaded",
           {{"path", unloaded_path},
            {"loaded", false},
            {"answer", unloaded_value},
            {"still_mapped", mapped(unloaded_path)}}}};
}

}  // namespace sdtarget
