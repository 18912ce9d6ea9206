// HandleData: one MINIDUMP_HANDLE_DESCRIPTOR_2 per file descriptor, with the PSS-style type
// name ("File", "Socket", "EventFd", ...), the object name (the fd's link target) and, as its
// object information, the fd's basic and type-specific details (offset, flags, a socket's
// addresses, an eventfd's count, ...) in one LinuxFdText block: no Windows object-information
// type (mutant, event, section, ...) describes a Linux fd.
#include <vector>

#include "snapdump/handle_text.h"
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
    if (std::string details = handle_details(h); !details.empty()) {
      format::HandleObjectInformation info{0, static_cast<uint32_t>(format::HandleObjectInfoType::LinuxFdText),
                                           static_cast<uint32_t>(details.size())};
      d.object_info_rva = ctx.builder.append(info);
      ctx.builder.append(details.data(), details.size(), 1);
    }
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
