#include "snapshot_report.h"

#include <sys/mman.h>

#include <fmt/format.h>

#include "hex.h"
#include "name_escape.h"
#include "snapdump/handle_text.h"

namespace snapdump::cli {
namespace {

std::string prot_string(const Region& r) {
  return fmt::format("{}{}{}{}", (r.prot & PROT_READ) ? 'r' : '-', (r.prot & PROT_WRITE) ? 'w' : '-',
                     (r.prot & PROT_EXEC) ? 'x' : '-', r.shared ? 's' : 'p');
}

const char* copy_string(RegionCopy c) {
  switch (c) {
    case RegionCopy::clone: return "clone";
    case RegionCopy::copied_in_pause: return "copied-in-pause";
    case RegionCopy::shared_live: return "shared-live";
    case RegionCopy::live: return "live";
    case RegionCopy::held: return "held";
    case RegionCopy::unreadable: return "unreadable";
  }
  return "?";
}

const char* thread_capture_string(ThreadCapture c) {
  switch (c) {
    case ThreadCapture::stopped: return "stopped";
    case ThreadCapture::left_running: return "left-running";
    case ThreadCapture::exited: return "exited";
  }
  return "?";
}

}  // namespace

void print_lines(std::FILE* out, std::string_view text, char separator, const char* indent) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find(separator, at);
    if (end == std::string_view::npos) end = text.size();
    // Tabs lay out /proc text (cpuinfo, status): kept, and everything between them escaped.
    std::string line;
    std::string_view rest = text.substr(at, end - at);
    for (size_t tab; (tab = rest.find('\t')) != std::string_view::npos; rest.remove_prefix(tab + 1)) {
      line += escape_text(rest.substr(0, tab)) + '\t';
    }
    line += escape_text(rest);
    fmt::print(out, "{}{}\n", indent, line);
    at = end + 1;
  }
}

void print_details(std::FILE* out, const std::string& details) { print_lines(out, details, '\n', "             "); }

namespace {

template <class F>
void if_captured(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    if (e.code() != Errc::not_captured) throw;
  }
}

}  // namespace

nlohmann::json process_json(const ProcessInfo& p) {
  nlohmann::json j = {{"parent_pid", p.parent_pid}, {"threads", p.thread_count},
                      {"virtual_size", p.virtual_size}, {"working_set_size", p.working_set_size}};
  put_name(j, "name", p.name);
  put_name(j, "image_path", p.image_path);
  put_name(j, "command_line", p.command_line);
  return j;
}

nlohmann::json thread_json(const ThreadEntry& t) {
  nlohmann::json e = {{"tid", t.tid}, {"capture", thread_capture_string(t.capture)}, {"syscall", t.syscall_number}};
  put_name(e, "name", t.name);
  if (t.context_flags) {
    e["rip"] = fmt::format("{:#x}", t.regs.rip);
    e["rsp"] = fmt::format("{:#x}", t.regs.rsp);
    e["context_flags"] = fmt::format("{:#x}", t.context_flags);
    e["xsave_bytes"] = t.xsave.size();
  }
  return e;
}

nlohmann::json region_json(const Region& r) {
  nlohmann::json e = {{"start", fmt::format("{:#x}", r.start)}, {"end", fmt::format("{:#x}", r.end)},
                      {"prot", prot_string(r)}, {"copy", copy_string(r.copy)}};
  put_name(e, "path", r.path);
  if (r.omitted != RegionOmission::none) e["omitted"] = to_string(r.omitted);
  if (r.elf) e["build_id"] = to_hex(r.elf->build_id);
  return e;
}

nlohmann::json handle_json(const HandleEntry& h) {
  nlohmann::json e = {{"fd", h.fd}, {"kind", to_string(h.kind)}};
  put_name(e, "type", h.type_name);
  put_name(e, "name", h.name);
  put_name(e, "details", handle_details(h));
  return e;
}

nlohmann::json snapshot_to_json(const Snapshot& s) {
  using nlohmann::json;
  json j;
  j["pid"] = s.process().pid;
  j["memory_mode"] = to_string(s.memory_mode());
  j["pause_ns"] = s.pause().count();
  if (auto c = s.va_clone_pid()) j["va_clone_pid"] = *c;
  j["process"] = process_json(s.process());
  if_captured([&] {
    for (const ThreadEntry& t : s.threads()) j["threads"].push_back(thread_json(t));
  });
  if_captured([&] {
    for (const Region& r : s.regions()) j["regions"].push_back(region_json(r));
  });
  if_captured([&] {
    for (const HandleEntry& h : s.handles()) j["handles"].push_back(handle_json(h));
  });
  if_captured([&] {
    PerformanceCounters pc = s.performance();
    j["performance"] = {{"total_ns", pc.total.wall_ns}, {"pause_ns", pc.pause.wall_ns},
                        {"va_clone_ns", pc.va_clone.wall_ns}, {"clone_fork_ns", pc.clone_fork_ns}, {"helper_thread_stop_ns", pc.helper_thread_stop_ns}, {"va_space_ns", pc.va_space.wall_ns},
                        {"handles_ns", pc.handles.wall_ns}, {"threads_ns", pc.threads.wall_ns},
                        {"aux_pages_ns", pc.aux_pages.wall_ns}};
  });
  j["auxiliary_pages"] = s.auxiliary_pages().size();
  return j;
}

void print_process(std::FILE* out, const ProcessInfo& p) {
  fmt::print(out, "Process {} ({}), parent {}\n  image   {}\n  command {}\n", p.pid, escape_text(p.name),
             p.parent_pid, escape_text(p.image_path), escape_text(p.command_line));
  fmt::print(out, "  memory  {:.1f} MiB mapped, {:.1f} MiB resident\n", p.virtual_size / 1048576.0,
             p.working_set_size / 1048576.0);
}

void print_thread(std::FILE* out, const ThreadEntry& t) {
  fmt::print(out, "  {:>7}  {:<16} {:<12}", t.tid, escape_text(t.name), thread_capture_string(t.capture));
  if (t.context_flags) fmt::print(out, " rip {:#014x} rsp {:#014x}", t.regs.rip, t.regs.rsp);
  if (t.syscall_number >= 0) fmt::print(out, "  in syscall {}", t.syscall_number);
  if (!t.xsave.empty()) fmt::print(out, "  xsave {} B", t.xsave.size());
  fmt::print(out, "\n");
}

void print_module(std::FILE* out, const Region& r) {
  if (!r.elf) return;
  fmt::print(out, "  {:#014x} {:>9} KiB  {}  {}\n", r.elf->load_address, r.elf->image_size / 1024,
             r.elf->build_id.empty() ? std::string("(no build-id)") : to_hex(r.elf->build_id), escape_text(r.path));
}

void print_region(std::FILE* out, const Region& r) {
  fmt::print(out, "  {:#014x}-{:#014x} {} {:<15} {}{}\n", r.start, r.end, prot_string(r), copy_string(r.copy),
             escape_text(r.path), r.omitted == RegionOmission::none ? std::string() : fmt::format("  (left out: {})", to_string(r.omitted)));
}

void print_handle(std::FILE* out, const HandleEntry& h) {
  fmt::print(out, "  fd {:>4}  {:<10} {}\n", h.fd, escape_text(h.type_name), escape_text(h.name));
  print_details(out, handle_details(h));
}

void print_snapshot(std::FILE* out, const Snapshot& s) {
  print_process(out, s.process());
  fmt::print(out, "Capture: {} mode, target paused {:.3f} ms", to_string(s.memory_mode()),
             s.pause().count() / 1e6);
  if (auto c = s.va_clone_pid()) fmt::print(out, ", VA clone is process {}", *c);
  fmt::print(out, "\n");
  if_captured([&] {
    fmt::print(out, "\nThreads ({}):\n", s.threads().size());
    for (const ThreadEntry& t : s.threads()) print_thread(out, t);
  });
  if_captured([&] {
    fmt::print(out, "\nModules:\n");
    for (const Region& r : s.regions()) print_module(out, r);
    fmt::print(out, "\nMemory regions ({}):\n", s.regions().size());
    for (const Region& r : s.regions()) print_region(out, r);
  });
  if_captured([&] {
    fmt::print(out, "\nHandles ({}):\n", s.handles().size());
    for (const HandleEntry& h : s.handles()) print_handle(out, h);
  });
  if_captured([&] {
    PerformanceCounters pc = s.performance();
    fmt::print(out,
               "\nPerformance: total {:.3f} ms, pause {:.3f} ms (clone {:.3f} ms, its fork {:.3f} ms), VA space "
               "{:.3f} ms, handles {:.3f} ms\n",
               pc.total.wall_ns / 1e6, pc.pause.wall_ns / 1e6, pc.va_clone.wall_ns / 1e6, pc.clone_fork_ns / 1e6,
               pc.va_space.wall_ns / 1e6, pc.handles.wall_ns / 1e6);
    if (pc.helper_thread_stop_ns != 0) {
      fmt::print(out, "Before the pause, one thread was stopped alone {:.3f} ms to make the clone's fork helper\n",
                 pc.helper_thread_stop_ns / 1e6);
    }
  });
}

}  // namespace snapdump::cli
