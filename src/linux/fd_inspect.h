// The Linux meaning of PSS handle capture: one HandleEntry per open file descriptor, with as
// much as the capture flags ask for (names, basic information, type-specific information).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory_resource>
#include <string_view>
#include <vector>

#include "snapdump/snapshot_types.h"

namespace snapdump::os {

// Lists /proc/PID/fd. `flags` is a PSS capture-flag set: kHandles alone gives fd numbers and
// kinds; kHandleNameInformation adds the link target; kHandleBasicInformation adds fdinfo and
// fstat fields; kHandleTypeSpecificInformation adds the per-kind record. An fd closed while it
// is being read is skipped, never an error.
// Everything in the result (its strings and type-specific lists included) comes from `out`;
// what is only needed during the call (file texts, the socket tables) from `scratch`. On
// success nothing else is allocated, so with two arenas the call is free of the heap, as
// kCreateUseVmAllocations asks. `scratch` grows by about the largest /proc file read plus the
// socket tables of the target's network namespace, whatever the number of fds.
std::pmr::vector<HandleEntry> read_handles(
    pid_t pid, CaptureFlags flags,
    std::pmr::memory_resource* out = std::pmr::get_default_resource(),
    std::pmr::memory_resource* scratch = std::pmr::get_default_resource());

// The kind of an fd from its /proc/PID/fd/N link text and the st_mode of the object it
// points to (0 when stat failed). The link text decides for pipes, sockets, anonymous inodes
// and memfds; the mode for named files.
FdKind classify_fd(std::string_view link, uint32_t mode) noexcept;

// The PSS-style TypeName of a kind: "File", "Directory", "Pipe", "Socket", "EventFd", ...
const char* fd_type_name(FdKind kind) noexcept;

}  // namespace snapdump::os
