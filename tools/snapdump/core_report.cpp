#include "core_report.h"

#include <string.h>
#include <sys/mman.h>

#include <fmt/format.h>

#include "hex.h"
#include "name_escape.h"

namespace snapdump::cli {
namespace {

using nlohmann::json;

std::string signal_text(int signo) {
  const char* abbrev = signo > 0 ? sigabbrev_np(signo) : nullptr;
  return abbrev != nullptr ? std::string("SIG") + abbrev : fmt::format("signal {}", signo);
}

std::string prot_text(uint32_t prot) {
  return fmt::format("{}{}{}", (prot & PROT_READ) ? 'r' : '-', (prot & PROT_WRITE) ? 'w' : '-', (prot & PROT_EXEC) ? 'x' : '-');
}

// The bytes of a mapping the core holds.
uint64_t held_bytes(const view::CoreView& core, const view::Mapping& m) {
  uint64_t n = 0;
  for (const auto& [lo, hi] : core.held(m.start, m.end).value_or(std::vector<std::pair<uint64_t, uint64_t>>{})) n += hi - lo;
  return n;
}

// NUL-separated argv, shown with spaces (what it was made from, psargs, had them).
std::string words(std::string command_line) {
  while (!command_line.empty() && command_line.back() == '\0') command_line.pop_back();
  for (char& c : command_line) c = c == '\0' ? ' ' : c;
  return command_line;
}

}  // namespace

void print_core(std::FILE* out, const view::CoreView& core) {
  const view::ProcessSummary& p = core.process();
  fmt::print(out, "Process: {} {} (parent {}, uid {}, gid {}, state {})\n", p.pid, escape_text(p.name), p.parent_pid, p.uid, p.gid,
             p.state == 0 ? std::string("unknown") : escape_text(std::string(1, p.state)));
  if (!p.command_line.empty()) fmt::print(out, "Command line: {}\n", escape_text(words(p.command_line)));
  if (!p.image_path.empty()) fmt::print(out, "Executable: {}\n", escape_text(p.image_path));
  if (auto s = core.signal()) {
    fmt::print(out, "Signal: {} (code {}) at {:#x} in thread {}\n", signal_text(s->signo), s->code, s->address, s->thread);
  }
  fmt::print(out, "\nThreads ({}):\n", core.threads().size());
  for (const view::ThreadState& t : core.threads()) {
    fmt::print(out, "  {:>7}  {:<16} rip {:#014x} rsp {:#014x}  pending {:#x} blocked {:#x}{}\n", t.tid, escape_text(t.name),
               t.regs.rip, t.regs.rsp, t.pending_signals, t.blocked_signals, t.xsave.empty() ? "" : "  xsave");
  }
  uint64_t held = 0;
  for (const view::Mapping& m : core.mappings()) held += held_bytes(core, m);
  fmt::print(out, "\nMappings: {}, {:.1f} MiB of memory in the core\n", core.mappings().size(), static_cast<double>(held) / (1 << 20));
  fmt::print(out, "\nModules ({}):\n", core.modules().size());
  for (const view::Module& m : core.modules()) {
    fmt::print(out, "  {:#014x} {:>9} KiB  {:<40}  {}\n", m.base, m.size / 1024,
               m.build_id.empty() ? std::string("(no build-id)") : to_hex(m.build_id), escape_text(m.path));
  }
  fmt::print(out, "\nNot in a core ({}):\n", core.gaps().size());
  for (const std::string& g : core.gaps()) fmt::print(out, "  {}\n", escape_text(g));
  if (!core.problems().empty()) {
    fmt::print(out, "\nProblems ({}):\n", core.problems().size());
    for (const std::string& problem : core.problems()) fmt::print(out, "  {}\n", escape_text(problem));
  }
}

json core_to_json(const view::CoreView& core) {
  const view::ProcessSummary& p = core.process();
  json process = {{"pid", p.pid}, {"parent_pid", p.parent_pid}, {"uid", p.uid}, {"gid", p.gid}, {"process_group", p.process_group},
                  {"session", p.session}, {"nice", p.nice}, {"state", p.state == 0 ? "" : std::string(1, p.state)}};
  put_name(process, "name", p.name);
  put_name(process, "image_path", p.image_path);
  put_name(process, "command_line", words(p.command_line));
  json j = {{"process", process}, {"signal", nullptr}};
  if (auto s = core.signal()) {
    j["signal"] = {{"thread", s->thread}, {"signo", s->signo}, {"signal", signal_text(s->signo)}, {"code", s->code},
                   {"errno", s->error}, {"address", s->address}};
  }
  j["threads"] = json::array();
  for (const view::ThreadState& t : core.threads()) {
    json e = {{"tid", t.tid}, {"rip", t.regs.rip}, {"rsp", t.regs.rsp}, {"rbp", t.regs.rbp}, {"pending_signals", t.pending_signals},
              {"blocked_signals", t.blocked_signals}, {"user_time_ns", t.user_time_ns}, {"kernel_time_ns", t.kernel_time_ns},
              {"fpregs", t.fpregs.has_value()}, {"xsave_size", t.xsave.size()}};
    put_name(e, "name", t.name);
    j["threads"].push_back(std::move(e));
  }
  j["mappings"] = json::array();
  for (const view::Mapping& m : core.mappings()) {
    json e = {{"start", m.start}, {"end", m.end}, {"prot", prot_text(m.prot)}, {"file_offset", m.file_offset},
              {"held_bytes", held_bytes(core, m)}};
    put_name(e, "path", m.path);
    j["mappings"].push_back(std::move(e));
  }
  j["modules"] = json::array();
  for (const view::Module& m : core.modules()) {
    json e = {{"base", m.base}, {"size", m.size}, {"build_id", to_hex(m.build_id)}};
    put_name(e, "path", m.path);
    j["modules"].push_back(std::move(e));
  }
  j["gaps"] = json::array();
  for (const std::string& g : core.gaps()) j["gaps"].push_back(json_display(g));
  j["problems"] = json::array();
  for (const std::string& problem : core.problems()) j["problems"].push_back(json_display(problem));
  return j;
}

}  // namespace snapdump::cli
