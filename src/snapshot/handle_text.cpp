#include "snapdump/handle_text.h"

#include <fmt/format.h>

namespace snapdump {
namespace {

struct TypeSpecificText {
  std::string& out;
  void line(std::string_view key, std::string_view value) { out += fmt::format("{}: {}\n", key, value); }

  void operator()(const std::monostate&) {}
  void operator()(const SocketInfo& s) {
    line("family", std::to_string(s.family));
    line("type", std::to_string(s.type));
    line("protocol", std::to_string(s.protocol));
    if (!s.local_address.empty()) line("local", s.local_address);
    if (!s.remote_address.empty()) line("remote", s.remote_address);
    if (!s.state.empty()) line("state", s.state);
    line("socket-inode", std::to_string(s.inode));
  }
  void operator()(const PipeInfo& p) {
    line("pipe-inode", std::to_string(p.inode));
    line("end", p.read_end && p.write_end ? "read-write" : p.read_end ? "read" : p.write_end ? "write" : "none");
  }
  void operator()(const EventFdInfo& e) {
    line("eventfd-count", std::to_string(e.count));
    line("semaphore", e.semaphore ? "yes" : "no");
  }
  void operator()(const TimerFdInfo& t) {
    line("clockid", std::to_string(t.clock_id));
    line("ticks", std::to_string(t.ticks));
    line("settime-flags", fmt::format("{:#x}", t.settime_flags));
    line("it_value-ns", std::to_string(t.value_ns));
    line("it_interval-ns", std::to_string(t.interval_ns));
  }
  void operator()(const SignalFdInfo& s) { line("sigmask", fmt::format("{:016x}", s.mask)); }
  void operator()(const EpollInfo& e) {
    for (const EpollWatch& w : e.watches) {
      line("tfd", fmt::format("{} events: {:#x} data: {:#x}", w.fd, w.events, w.data));
    }
  }
  void operator()(const InotifyInfo& n) {
    for (const InotifyWatch& w : n.watches) {
      line("wd", fmt::format("{} ino: {} mask: {:#x}{}", w.wd, w.inode, w.mask, w.path.empty() ? "" : " path: " + std::string(w.path)));
    }
  }
  void operator()(const MemfdInfo& m) {
    line("memfd-name", m.name);
    line("size", std::to_string(m.size));
    line("seals", fmt::format("{:#x}", m.seals));
  }
  void operator()(const PidfdInfo& p) { line("pid", std::to_string(p.pid)); }
};

}  // namespace

std::string handle_details(const HandleEntry& h) {
  std::string out;
  if (h.has_basic) {
    out += fmt::format("kind: {}\n", to_string(h.kind));
    out += fmt::format("flags: 0{:o}\n", h.open_flags);
    out += fmt::format("pos: {}\n", h.position);
    out += fmt::format("mnt_id: {}\n", h.mount_id);
    out += fmt::format("ino: {}\n", h.inode);
    out += fmt::format("mode: 0{:o}\n", h.mode);
  }
  if (h.has_type_specific) std::visit(TypeSpecificText{out}, h.type_specific);
  return out;
}

}  // namespace snapdump
