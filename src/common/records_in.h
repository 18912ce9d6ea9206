// Snapshot records born in a memory resource. A std::pmr container keeps the allocator it was
// constructed with, and neither assignment nor a plain copy hands it another: a record whose
// strings belong in the snapshot's arena (kCreateUseVmAllocations) must be constructed with it,
// and copied member by member into it. Every such constructor and copy lives here, so a field
// added to a record has one place to be copied.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory_resource>

#include "snapdump/snapshot_types.h"

namespace snapdump {

ProcessInfo process_info_in(std::pmr::memory_resource* memory);
ThreadEntry thread_entry_in(pid_t tid, std::pmr::memory_resource* memory);
AuxiliaryPage auxiliary_page_in(uint64_t address, std::pmr::memory_resource* memory);
Region region_in(std::pmr::memory_resource* memory);
ElfIdentity elf_identity_in(std::pmr::memory_resource* memory);
SocketInfo socket_info_in(std::pmr::memory_resource* memory);
HandleEntry handle_entry_in(std::pmr::memory_resource* memory);

// Copies into `memory`.
ElfIdentity copy_in(const ElfIdentity& from, std::pmr::memory_resource* memory);
SocketInfo copy_in(const SocketInfo& from, std::pmr::memory_resource* memory);
// `from` without its ELF identity (what Snapshot::regions() shows without section information).
Region copy_without_identity(const Region& from, std::pmr::memory_resource* memory);

}  // namespace snapdump
