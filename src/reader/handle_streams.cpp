// HandleData: MINIDUMP_HANDLE_DESCRIPTOR or _2, and the _2's chain of object-information
// blocks, which a corrupt file can make cyclic.
#include <cstddef>
#include <set>

#include <fmt/format.h>

#include "snapdump/format/constants.h"
#include "reader/parse.h"

namespace snapdump::reader::detail {

namespace {

// Far more blocks than any object type has; bounds the work a long acyclic chain can cause.
constexpr size_t kMaxObjectInfo = 64;

std::vector<std::pair<uint32_t, std::vector<uint8_t>>> object_info_chain(const Context& ctx,
                                                                         uint32_t rva,
                                                                         const std::string& what) {
  std::vector<std::pair<uint32_t, std::vector<uint8_t>>> chain;
  std::set<uint32_t> visited;
  while (rva != 0) {
    if (!visited.insert(rva).second) {
      ctx.problem(fmt::format("{}: object information chain loops back to RVA {:#x}", what, rva));
      break;
    }
    if (chain.size() == kMaxObjectInfo) {
      ctx.problem(fmt::format("{}: object information chain longer than {}", what, kMaxObjectInfo));
      break;
    }
    auto info = load<format::HandleObjectInformation>(ctx.file, rva);
    if (!info) {
      ctx.problem(fmt::format("{}: object information RVA {:#x} outside the file", what, rva));
      break;
    }
    auto data = ctx.at(uint64_t{rva} + sizeof(*info), info->size_of_info);
    if (!data) {
      ctx.problem(fmt::format("{}: object information at RVA {:#x} ({} bytes) runs past the end "
                              "of the file", what, rva, info->size_of_info));
      break;
    }
    chain.emplace_back(info->info_type, std::vector<uint8_t>(data->begin(), data->end()));
    rva = info->next_info_rva;
  }
  return chain;
}

}  // namespace

std::vector<HandleView> parse_handles(const Context& ctx) {
  std::vector<HandleView> out;
  auto stream = ctx.first(static_cast<uint32_t>(format::StreamType::HandleData));
  if (!stream) return out;
  auto h = load<format::HandleDataStreamHeader>(*stream, 0);
  if (!h) {
    ctx.problem(fmt::format("HandleData: stream of {} bytes is too small for its header",
                            stream->size()));
    return out;
  }
  // MINIDUMP_HANDLE_DESCRIPTOR is the first 32 bytes of _2; a larger size means _2.
  constexpr uint64_t kDescriptor1Size = offsetof(format::HandleDescriptor2, object_info_rva);
  auto layout = sized_list(ctx, *stream, h->size_of_header, h->size_of_descriptor,
                           h->number_of_descriptors, sizeof(format::HandleDataStreamHeader),
                           kDescriptor1Size, "HandleData");
  if (!layout) return out;
  const bool has_object_info = layout->stride >= sizeof(format::HandleDescriptor2);
  out.reserve(layout->count);
  for (uint64_t i = 0; i < layout->count; ++i) {
    format::HandleDescriptor2 d{};
    auto bytes = slice(*stream, layout->offset + i * layout->stride,
                       has_object_info ? sizeof(d) : kDescriptor1Size);
    if (!bytes) break;
    std::memcpy(&d, bytes->data(), bytes->size());
    const std::string what = fmt::format("HandleData: descriptor {} (handle {:#x})", i, d.handle);
    HandleView v{};
    v.handle = d.handle;
    if (d.type_name_rva != 0) v.type_name = ctx.string_at(d.type_name_rva, what + " type name").value_or("");
    if (d.object_name_rva != 0) {
      v.object_name = ctx.string_at(d.object_name_rva, what + " object name").value_or("");
    }
    v.attributes = d.attributes;
    v.granted_access = d.granted_access;
    v.handle_count = d.handle_count;
    v.pointer_count = d.pointer_count;
    if (has_object_info) v.object_info = object_info_chain(ctx, d.object_info_rva, what);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace snapdump::reader::detail
