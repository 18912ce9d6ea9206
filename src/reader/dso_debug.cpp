// LinuxDsoDebug: MDRawDebug64, its link-map array elsewhere in the file, and the dynamic section
// after the header. The count is the file's word, so the array is bounded by the file first.
#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

std::optional<DsoDebugView> parse_dso_debug(const Context& ctx) {
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::LinuxDsoDebug));
  if (!stream) return std::nullopt;
  auto d = load<format::Debug64>(*stream, 0);
  if (!d) {
    ctx.problem(fmt::format("LinuxDsoDebug: stream of {} bytes is too small for its header", stream->size()));
    return std::nullopt;
  }
  DsoDebugView v;
  v.version = d->version;
  v.brk = d->brk;
  v.ldbase = d->ldbase;
  v.dynamic = d->dynamic;
  v.dynamic_section = stream->subspan(sizeof(format::Debug64));
  if (d->dso_count == 0) return v;
  auto array = ctx.at(d->map, uint64_t{d->dso_count} * sizeof(format::LinkMap64));
  if (!array) {
    ctx.problem(fmt::format("LinuxDsoDebug: {} link-map entries at RVA {:#x} run past the end of the file", d->dso_count,
                            d->map));
    return v;
  }
  for (uint32_t i = 0; i < d->dso_count; ++i) {
    auto m = load<format::LinkMap64>(*array, i * sizeof(format::LinkMap64));
    if (!m) break;
    std::string name = m->name ? ctx.string_at(m->name, fmt::format("LinuxDsoDebug: entry {} name", i)).value_or("") : "";
    v.objects.push_back({m->addr, m->ld, std::move(name)});
  }
  return v;
}

}  // namespace snapdump::reader::detail
