#include "target_markers.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

constexpr char kSecret[] = "snapdump-secret: the nanosleep thread's local points here";

// Writable and initialised: it lives in the executable's .data mapping, not in .rodata or .bss.
char g_data_marker[64] = "snapdump-data-marker: a global in .data";

std::string hex_address(const void* p) {
  char text[32];
  std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(p)));
  return text;
}

}  // namespace

namespace sdtarget {

char* secret_buffer() {
  static char* buffer = [] {
    // Its own allocation, larger than the malloc arena's small bins, so nothing else shares
    // the 256 bytes around it.
    char* b = static_cast<char*>(std::calloc(1, 4096));
    std::memcpy(b + 1024, kSecret, sizeof kSecret);
    return b + 1024;
  }();
  return buffer;
}

nlohmann::json markers_json() {
  return {{"secret", {{"addr", hex_address(secret_buffer())}, {"text", kSecret}}},
          {"data_marker", {{"addr", hex_address(g_data_marker)}, {"text", g_data_marker}}}};
}

}  // namespace sdtarget
