#include "stacks_report.h"

#include <fmt/format.h>

#include "hex.h"
#include "name_escape.h"

namespace snapdump::cli {
namespace {

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "park_in_nanosleep+0x3a (snapdump_target+0x1234) at park_functions.cpp:44", or what of it is
// known; a pc in no module is only its address.
std::string describe(const unwind::Frame& f) {
  std::string s = f.function.empty() ? "??" : escape_text(f.function) + fmt::format("+{:#x}", f.function_offset);
  if (!f.module.empty()) s += fmt::format(" ({}+{:#x})", escape_text(basename_of(f.module)), f.module_offset);
  if (!f.source_file.empty()) s += fmt::format(" at {}:{}", escape_text(f.source_file), f.line);
  return s;
}

}  // namespace

void print_stacks(std::FILE* out, const unwind::Stacks& stacks, const std::string& what,
                  std::optional<uint64_t> pause_ns) {
  fmt::print(out, "{}: {} thread{}", what, stacks.threads.size(), stacks.threads.size() == 1 ? "" : "s");
  if (pause_ns) fmt::print(out, "; the target was paused {:.3f} ms", *pause_ns / 1e6);
  fmt::print(out, "\n");
  for (const unwind::ThreadStack& t : stacks.threads) {
    fmt::print(out, "\nthread {} \"{}\":\n", t.tid, escape_text(t.name));
    for (size_t i = 0; i < t.frames.size(); ++i) {
      const unwind::Frame& f = t.frames[i];
      // Only the unusual way of finding a frame is marked: the frame pointer, which trusts rbp.
      const char* how = f.method == unwind::FrameMethod::frame_pointer ? "  [via frame pointer]" : "";
      fmt::print(out, "  #{:<2} {:#018x} in {}{}\n", i, f.pc, describe(f), how);
    }
    if (!t.stopped.empty()) fmt::print(out, "  (walk stopped: {})\n", escape_text(t.stopped));
  }
  if (!stacks.modules.empty()) {
    fmt::print(out, "\nmodules:\n");
    for (const unwind::ModuleInfo& m : stacks.modules) {
      fmt::print(out, "  {:#014x}-{:#014x} {}  build-id {}\n", m.base, m.end, escape_text(m.path),
                 m.build_id.empty() ? "none" : to_hex(m.build_id));
      if (m.elf_file.empty()) {
        fmt::print(out, "      no ELF file found: frames are named by module and offset only\n");
      } else if (m.elf_file != m.path) {
        fmt::print(out, "      ELF file {}\n", escape_text(m.elf_file));
      }
      if (!m.debug_file.empty() && m.debug_file != m.elf_file)
        fmt::print(out, "      debug information {}\n", escape_text(m.debug_file));
    }
  }
  for (const std::string& gap : stacks.gaps) fmt::print(out, "note: {}\n", escape_text(gap));
}

nlohmann::json stacks_to_json(const unwind::Stacks& stacks, std::optional<uint64_t> pause_ns) {
  nlohmann::json doc = nlohmann::json::object();
  doc["pid"] = stacks.pid;
  if (pause_ns) doc["pause_ns"] = *pause_ns;
  nlohmann::json threads = nlohmann::json::array();
  for (const unwind::ThreadStack& t : stacks.threads) {
    nlohmann::json jt = {{"tid", t.tid}};
    put_name(jt, "name", t.name);
    nlohmann::json frames = nlohmann::json::array();
    for (const unwind::Frame& f : t.frames) {
      nlohmann::json jf = {{"pc", fmt::format("{:#x}", f.pc)},
                           {"activation", f.activation},
                           {"method", unwind::to_string(f.method)}};
      if (!f.function.empty()) {
        put_name(jf, "function", f.function);
        put_name(jf, "symbol", f.symbol);
        jf["function_offset"] = fmt::format("{:#x}", f.function_offset);
      }
      if (!f.source_file.empty()) {
        put_name(jf, "source_file", f.source_file);
        jf["line"] = f.line;
        jf["column"] = f.column;
      }
      if (!f.module.empty()) {
        put_name(jf, "module", f.module);
        jf["module_offset"] = fmt::format("{:#x}", f.module_offset);
        jf["build_id"] = to_hex(f.build_id);
      }
      frames.push_back(std::move(jf));
    }
    jt["frames"] = std::move(frames);
    if (!t.stopped.empty()) put_name(jt, "stopped", t.stopped);
    threads.push_back(std::move(jt));
  }
  doc["threads"] = std::move(threads);
  nlohmann::json modules = nlohmann::json::array();
  for (const unwind::ModuleInfo& m : stacks.modules) {
    nlohmann::json jm = {{"base", fmt::format("{:#x}", m.base)}, {"end", fmt::format("{:#x}", m.end)},
                         {"build_id", to_hex(m.build_id)}};
    put_name(jm, "path", m.path);
    put_name(jm, "elf_file", m.elf_file);
    put_name(jm, "debug_file", m.debug_file);
    modules.push_back(std::move(jm));
  }
  doc["modules"] = std::move(modules);
  nlohmann::json gaps = nlohmann::json::array();
  for (const std::string& gap : stacks.gaps) gaps.push_back(json_display(gap));
  doc["gaps"] = std::move(gaps);
  return doc;
}

}  // namespace snapdump::cli
