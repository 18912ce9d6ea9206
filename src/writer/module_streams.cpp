// ModuleList: every mapped ELF image, identified by its GNU build-id in a 'BpEL' CodeView
// record, the form LLDB and Breakpad match modules on.
#include <vector>

#include "writer/streams.h"

namespace snapdump::writer {

void write_module_list(WriteContext& ctx) {
  std::vector<format::Module> modules;
  for (const Region& r : ctx.snapshot.memory_map()) {
    if (!r.elf) continue;
    format::Module m{};
    m.base_of_image = r.elf->load_address;
    m.size_of_image = static_cast<uint32_t>(r.elf->image_size);
    // ELF has no link timestamp or PE checksum; the build-id in the CodeView record is the
    // identity, so both stay 0 as Breakpad and Crashpad write them.
    m.module_name_rva = ctx.builder.append_string(r.path);
    std::vector<uint8_t> cv(4 + r.elf->build_id.size());
    format::CvInfoElfHeader h{format::kCvSignatureElf};
    std::memcpy(cv.data(), &h, 4);
    std::memcpy(cv.data() + 4, r.elf->build_id.data(), r.elf->build_id.size());
    if (!r.elf->build_id.empty()) m.cv_record = {static_cast<uint32_t>(cv.size()), ctx.builder.append(cv.data(), cv.size())};
    modules.push_back(m);
  }
  ctx.builder.add_list_stream(format::StreamType::ModuleList, modules);
}

}  // namespace snapdump::writer
