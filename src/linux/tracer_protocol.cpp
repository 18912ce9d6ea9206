#include "linux/tracer_protocol.h"

#include <algorithm>
#include <string>

namespace snapdump::os::tracer {
namespace {

// The fixed part of a PauseRequest, as it travels.
struct PauseFixed {
  int32_t pid;
  uint8_t mode, leave_unrestartable_running, want_context, want_xstate;
  uint32_t context_flags, stop_timeout_ms;
  uint64_t gadget;
  uint8_t orphan, vm_allocations;
  uint64_t max_stack_bytes, instruction_window, max_uncloneable_bytes;
  uint64_t extra_range_count, region_count;
};

// Bounds a peer cannot make us exceed: more regions than a process can map, more ranges than
// anyone asks for.
constexpr uint64_t kMaxRegions = 1u << 22;
constexpr uint64_t kMaxExtraRanges = 1u << 16;

}  // namespace

void encode(wire::MessageOut& out, const PauseRequest& r) {
  PauseFixed f{r.pid, static_cast<uint8_t>(r.mode), r.leave_unrestartable_running, r.want_context,
               r.want_xstate, r.context_flags, r.stop_timeout_ms, r.gadget, r.orphan,
               r.vm_allocations, r.max_stack_bytes, r.instruction_window, r.max_uncloneable_bytes,
               r.extra_ranges.size(), r.regions.size()};
  out.put(f);
  for (const auto& range : r.extra_ranges) {
    out.put(range.first);
    out.put(range.second);
  }
  for (const RegionBrief& region : r.regions) out.put(region);
}

bool decode(wire::MessageIn& in, PauseRequest& r) {
  PauseFixed f{};
  if (!in.get(f) || f.mode > 2 || f.extra_range_count > kMaxExtraRanges || f.region_count > kMaxRegions) {
    return false;
  }
  r.pid = f.pid;
  r.mode = static_cast<PauseMode>(f.mode);
  r.leave_unrestartable_running = f.leave_unrestartable_running;
  r.want_context = f.want_context;
  r.want_xstate = f.want_xstate;
  r.context_flags = f.context_flags;
  r.stop_timeout_ms = f.stop_timeout_ms;
  r.gadget = f.gadget;
  r.orphan = f.orphan;
  r.vm_allocations = f.vm_allocations;
  r.max_stack_bytes = f.max_stack_bytes;
  r.instruction_window = f.instruction_window;
  r.max_uncloneable_bytes = f.max_uncloneable_bytes;
  r.extra_ranges.resize(f.extra_range_count);
  for (auto& range : r.extra_ranges) {
    if (!in.get(range.first) || !in.get(range.second)) return false;
  }
  r.regions.resize(f.region_count);
  for (RegionBrief& region : r.regions) {
    if (!in.get(region)) return false;
  }
  return true;
}

void encode_error(wire::MessageOut& out, const Error& error) {
  out.put(static_cast<int32_t>(error.code()));
  out.put(static_cast<int32_t>(error.sys_errno()));
  out.put_string(error.what());
}

Error decode_error(wire::MessageIn& in) {
  int32_t code = 0, err = 0;
  char text[4096];
  uint64_t size = 0;
  if (!in.get(code) || !in.get(err) || !in.get_run_size(size, 1 << 20)) {
    return Error(Errc::internal, "snapdump's tracer sent an error it could not describe");
  }
  size_t kept = static_cast<size_t>(std::min<uint64_t>(size, sizeof text));
  in.get_bytes({reinterpret_cast<uint8_t*>(text), kept});
  in.skip_rest();
  if (code < 0 || code > static_cast<int32_t>(Errc::internal)) code = static_cast<int32_t>(Errc::internal);
  return Error(static_cast<Errc>(code), std::string(text, kept), err);
}

}  // namespace snapdump::os::tracer
