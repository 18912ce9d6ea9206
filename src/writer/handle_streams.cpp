// HandleData: one MINIDUMP_HANDLE_DESCRIPTOR_2 per file descriptor, with the PSS-style type
// name ("File", "Socket", "EventFd", ...) and the object name (the fd's link target).
#include <vector>

#include "writer/streams.h"

namespace snapdump::writer {

void write_handle_data(WriteContext& ctx) {
  std::vector<format::HandleDescriptor2> descriptors;
  for (const HandleEntry& h : ctx.snapshot.handles()) {
    format::HandleDescriptor2 d{};
    d.handle = static_cast<uint64_t>(h.fd);
    d.type_name_rva = ctx.builder.append_string(h.type_name);
    d.object_name_rva = h.name.empty() ? 0 : ctx.builder.append_string(h.name);
    d.attributes = h.open_flags;
    d.granted_access = h.granted_access;
    d.handle_count = 1;
    d.pointer_count = 1;
    descriptors.push_back(d);
  }
  format::HandleDataStreamHeader hdr{sizeof hdr, sizeof(format::HandleDescriptor2),
                                     static_cast<uint32_t>(descriptors.size()), 0};
  uint32_t rva = ctx.builder.append(hdr);
  ctx.builder.append(descriptors.data(), descriptors.size() * sizeof(format::HandleDescriptor2));
  ctx.builder.add_stream(format::StreamType::HandleData, rva,
                         static_cast<uint32_t>(sizeof hdr + descriptors.size() * sizeof(format::HandleDescriptor2)));
}

}  // namespace snapdump::writer
