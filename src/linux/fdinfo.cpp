// /proc/PID/fdinfo/N parsers (formats from fs/proc/fd.c and each kind's show_fdinfo).
#include "linux/fdinfo.h"

#include <string_view>

#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

uint64_t field_u64(std::string_view text, std::string_view key, int base) {
  auto value = text::find_field(text, key);
  return value ? text::parse_u64(*value, base).value_or(0) : 0;
}

// "(sec, nsec)" of timerfd's it_value / it_interval.
uint64_t parse_sec_nsec(std::string_view value) {
  if (value.size() < 2 || value.front() != '(' || value.back() != ')') return 0;
  value = value.substr(1, value.size() - 2);
  size_t comma = value.find(',');
  if (comma == std::string_view::npos) return 0;
  auto sec = text::parse_u64(text::trim(value.substr(0, comma)));
  auto nsec = text::parse_u64(text::trim(value.substr(comma + 1)));
  if (!sec || !nsec) return 0;
  if (*sec > (UINT64_MAX - *nsec) / 1'000'000'000ull) return UINT64_MAX;
  return *sec * 1'000'000'000ull + *nsec;
}

// The "key:value" tokens of an inotify or epoll line, e.g. "wd:1 ino:2a sdev:5".
std::string_view token_value(std::string_view line, std::string_view key) {
  while (true) {
    std::string_view token = text::next_token(line);
    if (token.empty()) return {};
    if (token.size() > key.size() && token.starts_with(key) && token[key.size()] == ':') {
      return token.substr(key.size() + 1);
    }
  }
}

}  // namespace

FdInfoBasic parse_fdinfo_basic(std::string_view text) {
  FdInfoBasic basic;
  basic.position = field_u64(text, "pos", 10);
  basic.flags = static_cast<uint32_t>(field_u64(text, "flags", 8));
  basic.mount_id = field_u64(text, "mnt_id", 10);
  basic.inode = field_u64(text, "ino", 10);
  return basic;
}

EventFdInfo parse_eventfd_fdinfo(std::string_view text) {
  EventFdInfo info;
  info.count = field_u64(text, "eventfd-count", 16);
  info.semaphore = field_u64(text, "eventfd-semaphore", 10) != 0;
  return info;
}

TimerFdInfo parse_timerfd_fdinfo(std::string_view text) {
  TimerFdInfo info;
  if (auto clock = text::find_field(text, "clockid")) {
    info.clock_id = static_cast<int>(text::parse_i64(*clock).value_or(0));
  }
  info.ticks = field_u64(text, "ticks", 10);
  info.settime_flags = static_cast<uint32_t>(field_u64(text, "settime flags", 8));
  if (auto value = text::find_field(text, "it_value")) info.value_ns = parse_sec_nsec(*value);
  if (auto value = text::find_field(text, "it_interval")) info.interval_ns = parse_sec_nsec(*value);
  return info;
}

SignalFdInfo parse_signalfd_fdinfo(std::string_view text) {
  return SignalFdInfo{field_u64(text, "sigmask", 16)};
}

EpollInfo parse_epoll_fdinfo(std::string_view text, std::pmr::memory_resource* memory) {
  EpollInfo info{.watches = std::pmr::vector<EpollWatch>(memory)};
  while (!text.empty()) {
    std::string_view line = text::next_line(text);
    // "tfd:        5 events:       19 data:                0  pos:0 ino:c85 sdev:5"
    std::string_view rest = line;
    if (text::next_token(rest) != "tfd:") continue;
    auto fd = text::parse_i64(text::next_token(rest));
    if (text::next_token(rest) != "events:") continue;
    auto events = text::parse_u64(text::next_token(rest), 16);
    if (text::next_token(rest) != "data:") continue;
    auto data = text::parse_u64(text::next_token(rest), 16);
    if (!fd || !events || !data) continue;
    info.watches.push_back(
        EpollWatch{static_cast<int>(*fd), static_cast<uint32_t>(*events), *data});
  }
  return info;
}

InotifyInfo parse_inotify_fdinfo(std::string_view text, std::pmr::memory_resource* memory) {
  InotifyInfo info{.watches = std::pmr::vector<InotifyWatch>(memory)};
  while (!text.empty()) {
    std::string_view line = text::next_line(text);
    std::string_view rest = line;
    if (text::next_token(rest) != "inotify") continue;
    // All numbers on this line are printed in hex, the watch descriptor included.
    auto wd = text::parse_u64(token_value(rest, "wd"), 16);
    auto inode = text::parse_u64(token_value(rest, "ino"), 16);
    auto mask = text::parse_u64(token_value(rest, "mask"), 16);
    if (!wd || !inode || !mask) continue;
    // The kernel names no path here; the empty one still takes `memory` so that nothing in
    // the record refers to another resource.
    InotifyWatch watch{.path = std::pmr::string(memory)};
    watch.wd = static_cast<int>(*wd);
    watch.inode = *inode;
    watch.mask = static_cast<uint32_t>(*mask);
    info.watches.push_back(std::move(watch));
  }
  return info;
}

PidfdInfo parse_pidfd_fdinfo(std::string_view text) {
  PidfdInfo info;
  // -1 when the process has exited (and been reaped).
  if (auto pid = text::find_field(text, "Pid")) {
    info.pid = static_cast<pid_t>(text::parse_i64(*pid).value_or(0));
  }
  return info;
}

}  // namespace snapdump::os
