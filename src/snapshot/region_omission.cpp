#include "snapdump/snapshot_types.h"

namespace snapdump {

const char* to_string(RegionOmission omission) noexcept {
  switch (omission) {
    case RegionOmission::over_copy_cap: return "over-copy-cap";
    case RegionOmission::changed_in_pause: return "changed-in-pause";
    case RegionOmission::none: break;
  }
  return "none";
}

}  // namespace snapdump
