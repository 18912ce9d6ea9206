#include "snapdump/format/constants.h"

namespace snapdump::format {

const char* stream_type_name(uint32_t type) noexcept {
  switch (type) {
#define HANDLE_STREAM(value, name) \
  case value:                      \
    return #name;
#include "snapdump/format/stream_types.def"
  }
  return nullptr;
}

}  // namespace snapdump::format
