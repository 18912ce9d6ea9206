// ModuleList (with Breakpad's 'BpEL' build-id CodeView records) and UnloadedModuleList.
#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

std::vector<ModuleView> parse_modules(const Context& ctx) {
  std::vector<ModuleView> out;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::ModuleList));
  if (!stream) return out;
  auto layout = counted_list(ctx, *stream, sizeof(format::Module), "ModuleList");
  if (!layout) return out;
  out.reserve(layout->count);
  for (uint64_t i = 0; i < layout->count; ++i) {
    auto m = load<format::Module>(*stream, layout->offset + i * layout->stride);
    if (!m) break;
    ModuleView v{};
    v.base = m->base_of_image;
    v.size = m->size_of_image;
    v.checksum = m->checksum;
    v.time_date_stamp = m->time_date_stamp;
    v.name = ctx.string_at(m->module_name_rva, fmt::format("ModuleList: entry {} name", i))
                 .value_or("");
    if (m->cv_record.data_size != 0) {
      auto cv = ctx.location(m->cv_record, fmt::format("ModuleList: entry {} CodeView record", i));
      if (cv) {
        if (auto sig = load<uint32_t>(*cv, 0)) {
          v.cv_signature = *sig;
          if (*sig == format::kCvSignatureElf) v.build_id.assign(cv->begin() + 4, cv->end());
        } else {
          ctx.problem(fmt::format("ModuleList: entry {} CodeView record is {} bytes, too small "
                                  "for a signature", i, cv->size()));
        }
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::vector<UnloadedModuleView> parse_unloaded_modules(const Context& ctx) {
  std::vector<UnloadedModuleView> out;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::UnloadedModuleList));
  if (!stream) return out;
  auto h = load<format::UnloadedModuleListHeader>(*stream, 0);
  if (!h) {
    ctx.problem(fmt::format("UnloadedModuleList: stream of {} bytes is too small for its header",
                            stream->size()));
    return out;
  }
  auto layout = sized_list(ctx, *stream, h->size_of_header, h->size_of_entry, h->number_of_entries,
                           sizeof(format::UnloadedModuleListHeader), sizeof(format::UnloadedModule),
                           "UnloadedModuleList");
  if (!layout) return out;
  out.reserve(layout->count);
  for (uint64_t i = 0; i < layout->count; ++i) {
    auto m = load<format::UnloadedModule>(*stream, layout->offset + i * layout->stride);
    if (!m) break;
    UnloadedModuleView v{};
    v.base = m->base_of_image;
    v.size = m->size_of_image;
    v.name = ctx.string_at(m->module_name_rva, fmt::format("UnloadedModuleList: entry {} name", i))
                 .value_or("");
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace snapdump::reader::detail
