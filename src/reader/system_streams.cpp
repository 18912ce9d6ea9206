// SystemInfo and MiscInfo: fixed-size records whose later fields depend on the size written.
#include <algorithm>

#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

std::optional<SystemInfoView> parse_system_info(const Context& ctx) {
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::SystemInfo));
  if (!stream) return std::nullopt;
  auto si = load<format::SystemInfo>(*stream, 0);
  if (!si) {
    ctx.problem(fmt::format("SystemInfo: stream is {} bytes, smaller than MINIDUMP_SYSTEM_INFO ({})",
                            stream->size(), sizeof(format::SystemInfo)));
    return std::nullopt;
  }
  SystemInfoView v{};
  v.architecture = si->processor_architecture;
  v.platform_id = si->platform_id;
  v.processors = si->number_of_processors;
  v.major = si->major_version;
  v.minor = si->minor_version;
  v.build = si->build_number;
  if (si->csd_version_rva != 0) {
    v.csd_version = ctx.string_at(si->csd_version_rva, "SystemInfo: CSDVersion").value_or("");
  }
  const char* vendor = reinterpret_cast<const char*>(si->cpu.vendor_id);
  v.vendor.assign(vendor, strnlen(vendor, sizeof(si->cpu.vendor_id)));
  return v;
}

std::optional<MiscInfoView> parse_misc_info(const Context& ctx) {
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::MiscInfo));
  if (!stream) return std::nullopt;
  auto size_of_info = load<uint32_t>(*stream, 0);
  if (!size_of_info || stream->size() < format::kMiscInfoSize) {
    ctx.problem(fmt::format("MiscInfo: stream is {} bytes, smaller than MINIDUMP_MISC_INFO ({})",
                            stream->size(), format::kMiscInfoSize));
    return std::nullopt;
  }
  // Trust a field only if both the stream and the record's own size cover it.
  uint64_t size = *size_of_info;
  if (size < format::kMiscInfoSize) {
    ctx.problem(fmt::format("MiscInfo: SizeOfInfo {} is smaller than MINIDUMP_MISC_INFO ({})", size,
                            format::kMiscInfoSize));
    return std::nullopt;
  }
  if (size > stream->size()) {
    ctx.problem(fmt::format("MiscInfo: SizeOfInfo {} is larger than the stream ({} bytes)", size,
                            stream->size()));
    size = stream->size();
  }
  format::MiscInfo5 m{};
  std::memcpy(&m, stream->data(), std::min<uint64_t>(size, sizeof(m)));
  MiscInfoView v{};
  v.size_of_info = *size_of_info;
  v.flags1 = m.flags1;
  if (m.flags1 & format::misc::kProcessId) v.pid = m.process_id;
  if (m.flags1 & format::misc::kProcessTimes) {
    v.create_time = m.process_create_time;
    v.user_time = m.process_user_time;
    v.kernel_time = m.process_kernel_time;
  }
  // MISC_INFO_5 has no Flags1 bit for XState: a non-zero SizeOfInfo in the block says it is set.
  if (size >= format::kMiscInfo5Size && m.xstate_data.size_of_info != 0) {
    v.xstate_enabled_features = m.xstate_data.enabled_features;
    v.xstate_context_size = m.xstate_data.context_size;
    std::copy(std::begin(m.xstate_data.features), std::end(m.xstate_data.features), v.xstate_features.begin());
  }
  return v;
}

}  // namespace snapdump::reader::detail
