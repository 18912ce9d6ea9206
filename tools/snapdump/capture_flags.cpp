#include "capture_flags.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <utility>

namespace snapdump::cli {
namespace {

struct FlagName {
  const char* name;  // the PSS_CAPTURE_/PSS_CREATE_ suffix
  CaptureFlags value;
};

constexpr FlagName kFlags[] = {
    {"VA_CLONE", capture::kVaClone},
    {"HANDLES", capture::kHandles},
    {"HANDLE_NAME_INFORMATION", capture::kHandleNameInformation},
    {"HANDLE_BASIC_INFORMATION", capture::kHandleBasicInformation},
    {"HANDLE_TYPE_SPECIFIC_INFORMATION", capture::kHandleTypeSpecificInformation},
    {"HANDLE_TRACE", capture::kHandleTrace},
    {"THREADS", capture::kThreads},
    {"THREAD_CONTEXT", capture::kThreadContext},
    {"THREAD_CONTEXT_EXTENDED", capture::kThreadContextExtended},
    {"VA_SPACE", capture::kVaSpace},
    {"VA_SPACE_SECTION_INFORMATION", capture::kVaSpaceSectionInformation},
    {"IPT_TRACE", capture::kIptTrace},
    {"BREAKAWAY_OPTIONAL", capture::kCreateBreakawayOptional},
    {"BREAKAWAY", capture::kCreateBreakaway},
    {"FORCE_BREAKAWAY", capture::kCreateForceBreakaway},
    {"USE_VM_ALLOCATIONS", capture::kCreateUseVmAllocations},
    {"MEASURE_PERFORMANCE", capture::kCreateMeasurePerformance},
    {"RELEASE_SECTION", capture::kCreateReleaseSection},
};

// "VaClone", "va-clone", "PSS_CAPTURE_VA_CLONE" -> "VACLONE": compare without case and separators.
std::string fold(std::string_view s) {
  for (std::string_view prefix : {"PSS_CAPTURE_", "PSS_CREATE_", "pss_capture_", "pss_create_"}) {
    if (s.substr(0, prefix.size()) == prefix) s.remove_prefix(prefix.size());
  }
  std::string out;
  for (char c : s) {
    if (c != '_' && c != '-') out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  // "CreateMeasurePerformance", the C++ constant's spelling (kCreateMeasurePerformance).
  if (out.rfind("CREATE", 0) == 0) out.erase(0, 6);
  return out;
}

}  // namespace

CaptureFlags parse_capture_flags(std::string_view list) {
  CaptureFlags flags = 0;
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    if (item.empty()) continue;
    std::string key = fold(item);
    auto it = std::find_if(std::begin(kFlags), std::end(kFlags),
                           [&](const FlagName& f) { return fold(f.name) == key; });
    if (it == std::end(kFlags)) {
      throw std::invalid_argument("unknown capture flag '" + std::string(item) + "'; known: " + capture_flag_names());
    }
    flags |= it->value;
  }
  return flags;
}

std::string capture_flag_names() {
  std::string s;
  for (const FlagName& f : kFlags) {
    if (!s.empty()) s += ", ";
    s += f.name;
  }
  return s;
}

}  // namespace snapdump::cli
