// ModuleList: every mapped ELF image, identified by its GNU build-id in a 'BpEL' CodeView
// record, the form LLDB and Breakpad match modules on.
#include <vector>

#include "writer/streams.h"

namespace snapdump::writer {

void write_module_list(WriteContext& ctx) {
  std::vector<format::Module> modules;
  for (const PlannedModule& p : ctx.plan.modules) {
    const ElfIdentity& elf = *p.region->elf;
    format::Module m{};
    m.base_of_image = elf.load_address;
    m.size_of_image = static_cast<uint32_t>(elf.image_size);
    // ELF has no link timestamp or PE checksum; the build-id in the CodeView record is the
    // identity, so both stay 0 as Breakpad and Crashpad write them.
    m.module_name_rva = ctx.builder.append_string(p.name);
    if ((p.flags & module_write::kCvRecord) && !p.cv_record.empty()) {
      m.cv_record = {static_cast<uint32_t>(p.cv_record.size()), ctx.builder.append(p.cv_record.data(), p.cv_record.size())};
    }
    modules.push_back(m);
  }
  ctx.builder.add_list_stream(format::StreamType::ModuleList, modules);
}

// MiniDumpWithUnloadedModules. Windows keeps a ring of the last unloaded DLLs in ntdll; neither
// the Linux kernel nor glibc's dynamic linker remembers a library once dlclose unmapped it, so
// there is nothing to list. The stream is still written, with no entries: a reader sees that
// the flag was honoured and that no unloaded module is known, rather than a missing stream.
void write_unloaded_module_list(WriteContext& ctx) {
  format::UnloadedModuleListHeader h{sizeof h, sizeof(format::UnloadedModule), 0};
  uint32_t rva = ctx.builder.append(h);
  ctx.builder.add_stream(format::StreamType::UnloadedModuleList, rva, sizeof h);
}

}  // namespace snapdump::writer
