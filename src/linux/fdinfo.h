// Parsers for /proc/PID/fdinfo/N: the fields every fd has, and the per-kind lines the kernel
// appends for eventfd, timerfd, signalfd, epoll, inotify and pidfd. Missing or malformed lines
// leave the field at its default; unknown lines are ignored.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <string_view>

#include "snapdump/snapshot_types.h"

namespace snapdump::os {

struct FdInfoBasic {
  uint64_t position = 0;
  uint32_t flags = 0;  // octal "flags:" (access mode, O_NONBLOCK, O_CLOEXEC, ...)
  uint64_t mount_id = 0;
  uint64_t inode = 0;  // 0 when the kernel has no "ino:" line (before 5.2)
};

FdInfoBasic parse_fdinfo_basic(std::string_view text);
EventFdInfo parse_eventfd_fdinfo(std::string_view text);
TimerFdInfo parse_timerfd_fdinfo(std::string_view text);
SignalFdInfo parse_signalfd_fdinfo(std::string_view text);
// The watch lists are allocated from `memory`.
EpollInfo parse_epoll_fdinfo(std::string_view text,
                             std::pmr::memory_resource* memory = std::pmr::get_default_resource());
InotifyInfo parse_inotify_fdinfo(std::string_view text,
                                 std::pmr::memory_resource* memory = std::pmr::get_default_resource());
PidfdInfo parse_pidfd_fdinfo(std::string_view text);

}  // namespace snapdump::os
