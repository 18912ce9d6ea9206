#include "common/records_in.h"

namespace snapdump {

// Designated initializers name only the allocator-bearing members; the others keep their
// defaults, which is what -Wmissing-field-initializers would object to.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

ProcessInfo process_info_in(std::pmr::memory_resource* memory) {
  return ProcessInfo{.image_path = std::pmr::string(memory),
                     .command_line = std::pmr::string(memory),
                     .name = std::pmr::string(memory),
                     .status_text = std::pmr::string(memory),
                     .maps_text = std::pmr::string(memory),
                     .cmdline_raw = std::pmr::string(memory),
                     .environ_raw = std::pmr::string(memory),
                     .auxv_raw = std::pmr::string(memory)};
}

ThreadEntry thread_entry_in(pid_t tid, std::pmr::memory_resource* memory) {
  return ThreadEntry{.tid = tid, .name = std::pmr::string(memory), .xsave = std::pmr::vector<uint8_t>(memory)};
}

AuxiliaryPage auxiliary_page_in(uint64_t address, std::pmr::memory_resource* memory) {
  return AuxiliaryPage{.address = address, .bytes = std::pmr::vector<uint8_t>(memory)};
}

Region region_in(std::pmr::memory_resource* memory) { return Region{.path = std::pmr::string(memory)}; }

ElfIdentity elf_identity_in(std::pmr::memory_resource* memory) {
  return ElfIdentity{.build_id = std::pmr::vector<uint8_t>(memory), .soname = std::pmr::string(memory)};
}

SocketInfo socket_info_in(std::pmr::memory_resource* memory) {
  return SocketInfo{.local_address = std::pmr::string(memory),
                    .remote_address = std::pmr::string(memory),
                    .state = std::pmr::string(memory)};
}

HandleEntry handle_entry_in(std::pmr::memory_resource* memory) {
  return HandleEntry{.name = std::pmr::string(memory), .type_name = std::pmr::string(memory)};
}

#pragma GCC diagnostic pop

ElfIdentity copy_in(const ElfIdentity& from, std::pmr::memory_resource* memory) {
  ElfIdentity copy = elf_identity_in(memory);
  copy.build_id.assign(from.build_id.begin(), from.build_id.end());
  copy.soname.assign(from.soname);
  copy.load_address = from.load_address;
  copy.image_size = from.image_size;
  copy.elf_type = from.elf_type;
  copy.file_size = from.file_size;
  copy.file_mtime_unix = from.file_mtime_unix;
  return copy;
}

SocketInfo copy_in(const SocketInfo& from, std::pmr::memory_resource* memory) {
  SocketInfo copy = socket_info_in(memory);
  copy.family = from.family;
  copy.type = from.type;
  copy.protocol = from.protocol;
  copy.local_address.assign(from.local_address);
  copy.remote_address.assign(from.remote_address);
  copy.state.assign(from.state);
  copy.inode = from.inode;
  return copy;
}

// Every field is named: -Wmissing-field-initializers flags one added to Region later.
Region copy_without_identity(const Region& r, std::pmr::memory_resource* memory) {
  return Region{.start = r.start, .end = r.end, .prot = r.prot, .shared = r.shared,
                .file_offset = r.file_offset, .dev_major = r.dev_major, .dev_minor = r.dev_minor,
                .inode = r.inode, .path = std::pmr::string(r.path, memory), .type = r.type,
                .dont_fork = r.dont_fork, .wipe_on_fork = r.wipe_on_fork, .dont_dump = r.dont_dump,
                .huge_pages = r.huge_pages, .io = r.io, .rss = r.rss, .anonymous = r.anonymous,
                .swap = r.swap, .anon_huge = r.anon_huge, .copy = r.copy};
}

}  // namespace snapdump
