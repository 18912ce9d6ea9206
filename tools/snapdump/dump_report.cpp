#include "dump_report.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "hex.h"
#include "name_escape.h"
#include "snapshot_report.h"

#include "snapdump/format/constants.h"

namespace snapdump::cli {
namespace {

const char* memory_type(uint32_t type) {
  switch (type) {
    case format::mem::kImage: return "image";
    case format::mem::kMapped: return "mapped";
    case format::mem::kPrivate: return "private";
    default: return "?";
  }
}

// "SIGSEGV" for an Exception stream's code on Linux (the signal number), else the number in hex.
std::string signal_name(uint32_t code) {
  if (code > 0 && code <= static_cast<uint32_t>(SIGRTMAX)) {
    if (const char* abbrev = sigabbrev_np(static_cast<int>(code))) return std::string("SIG") + abbrev;
  }
  return fmt::format("{:#x}", code);
}

// The LinuxFdText object information snapdump writes for an fd, "" for other writers' handles.
std::string fd_details(const reader::HandleView& h) {
  for (const auto& [type, bytes] : h.object_info) {
    if (type == static_cast<uint32_t>(format::HandleObjectInfoType::LinuxFdText)) return std::string(bytes.begin(), bytes.end());
  }
  return "";
}

// LinuxCmdLine and LinuxEnviron end each entry in NUL: shown one entry per line.
char line_separator(uint32_t stream_type) {
  auto t = static_cast<format::StreamType>(stream_type);
  return t == format::StreamType::LinuxCmdLine || t == format::StreamType::LinuxEnviron ? '\0' : '\n';
}

}  // namespace

void print_dump(std::FILE* out, const reader::Minidump& d) {
  fmt::print(out, "Streams ({}):", d.streams().size());
  for (const auto& s : d.streams()) fmt::print(out, " {}", escape_text(s.name));
  fmt::print(out, "\n");
  if (auto sys = d.system_info()) {
    fmt::print(out, "System: {} CPUs ({}), {}\n", sys->processors, escape_text(sys->vendor), escape_text(sys->csd_version));
  }
  if (auto misc = d.misc_info(); misc && misc->pid) {
    fmt::print(out, "Process: {}", *misc->pid);
    if (misc->user_time) fmt::print(out, ", {} s user, {} s kernel", *misc->user_time, misc->kernel_time.value_or(0));
    fmt::print(out, "\n");
  }
  for (const auto& e : d.exceptions()) {
    fmt::print(out, "Exception: {} (code {}) at {:#x} in thread {}\n", signal_name(e.code), e.flags, e.address, e.tid);
  }
  auto threads = d.threads();
  fmt::print(out, "\nThreads ({}):\n", threads.size());
  for (const auto& t : threads) {
    fmt::print(out, "  {:>7}  {:<16}", t.tid, escape_text(t.name));
    if (t.context) fmt::print(out, " rip {:#014x} rsp {:#014x}", t.context->rip, t.context->rsp);
    fmt::print(out, "  stack {} B", t.stack.size());
    // A layout other than the CONTEXT snapdump writes is worth a word; an unknown one says why
    // there are no registers.
    if (t.context_layout != reader::ContextLayout::amd64 && t.context_layout != reader::ContextLayout::none) {
      fmt::print(out, "  context: {}", reader::describe_context(t.context_layout, t.context_bytes.size()));
    }
    fmt::print(out, "\n");
  }
  auto modules = d.modules();
  fmt::print(out, "\nModules ({}):\n", modules.size());
  for (const auto& m : modules) {
    fmt::print(out, "  {:#014x} {:>9} KiB  {:<40}  {}\n", m.base, m.size / 1024,
               m.build_id.empty() ? std::string("(no build-id)") : to_hex(m.build_id), escape_text(m.name));
  }
  auto memory = d.memory();
  uint64_t bytes = 0;
  for (const auto& r : memory) bytes += r.bytes.size();
  fmt::print(out, "\nMemory: {} ranges, {:.1f} KiB\n", memory.size(), bytes / 1024.0);
  auto info = d.memory_info();
  if (!info.empty()) {
    fmt::print(out, "Memory map ({} regions):\n", info.size());
    for (const auto& i : info) {
      fmt::print(out, "  {:#014x}-{:#014x} protect {:#05x} {}\n", i.base, i.base + i.size, i.protect,
                 memory_type(i.type));
    }
  }
  auto omitted = d.omitted_memory();
  if (!omitted.empty()) {
    uint64_t left_out = 0;
    for (const auto& o : omitted) left_out += o.end - o.start;
    fmt::print(out, "Memory the process could read that the dump does not hold ({} regions, {:.1f} MiB):\n",
               omitted.size(), left_out / 1048576.0);
    for (const auto& o : omitted) {
      fmt::print(out, "  {:#014x}-{:#014x} {:<16} {}\n", o.start, o.end, escape_text(o.reason), escape_text(o.path));
    }
  }
  auto handles = d.handles();
  if (!handles.empty()) {
    fmt::print(out, "\nHandles ({}):\n", handles.size());
    for (const auto& h : handles) {
      fmt::print(out, "  fd {:>4}  {:<10} {}\n", h.handle, escape_text(h.type_name), escape_text(h.object_name));
      print_details(out, fd_details(h));
    }
  }
  for (const auto& t : d.tokens()) {
    fmt::print(out, "\nToken {}:\n", t.id);
    print_lines(out, std::string_view(reinterpret_cast<const char*>(t.data.data()), t.data.size()), '\n', "  ");
  }
  if (!d.problems().empty()) {
    fmt::print(out, "\nProblems ({}):\n", d.problems().size());
    for (const auto& p : d.problems()) fmt::print(out, "  {}\n", escape_text(p));
  }
}

nlohmann::json dump_to_json(const reader::Minidump& d) {
  using nlohmann::json;
  json j;
  j["streams"] = json::array();
  for (const auto& s : d.streams()) j["streams"].push_back({{"type", s.type}, {"name", s.name}, {"size", s.size}, {"rva", s.rva}});
  if (auto sys = d.system_info()) {
    j["system"] = {{"architecture", sys->architecture}, {"platform_id", sys->platform_id}, {"processors", sys->processors},
                   {"version", fmt::format("{}.{}.{}", sys->major, sys->minor, sys->build)}};
    put_name(j["system"], "csd_version", sys->csd_version);
    put_name(j["system"], "vendor", sys->vendor);
  }
  if (auto misc = d.misc_info(); misc && misc->pid) {
    j["process"] = {{"pid", *misc->pid}, {"create_time", misc->create_time.value_or(0)},
                    {"user_time", misc->user_time.value_or(0)}, {"kernel_time", misc->kernel_time.value_or(0)}};
  }
  j["exceptions"] = json::array();
  for (const auto& e : d.exceptions()) {
    j["exceptions"].push_back({{"tid", e.tid}, {"code", e.code}, {"signal", signal_name(e.code)}, {"flags", e.flags},
                               {"address", e.address}});
  }
  j["threads"] = json::array();
  for (const auto& t : d.threads()) {
    json e = {{"tid", t.tid}, {"stack_start", t.stack_start}, {"stack_size", t.stack.size()},
              {"context_layout", reader::to_string(t.context_layout)}, {"context_size", t.context_bytes.size()}};
    put_name(e, "name", t.name);
    if (t.context) {
      const auto& c = *t.context;
      e["context_flags"] = c.context_flags;
      e["registers"] = {{"rip", c.rip}, {"rsp", c.rsp}, {"rbp", c.rbp}, {"rax", c.rax}, {"rbx", c.rbx}, {"rcx", c.rcx},
                        {"rdx", c.rdx}, {"rsi", c.rsi}, {"rdi", c.rdi}, {"r8", c.r8}, {"r9", c.r9}, {"r10", c.r10},
                        {"r11", c.r11}, {"r12", c.r12}, {"r13", c.r13}, {"r14", c.r14}, {"r15", c.r15},
                        {"eflags", c.eflags}};
    }
    j["threads"].push_back(e);
  }
  j["modules"] = json::array();
  for (const auto& m : d.modules()) {
    json e = {{"base", m.base}, {"size", m.size}, {"build_id", to_hex(m.build_id)}};
    put_name(e, "name", m.name);
    j["modules"].push_back(e);
  }
  j["memory"] = json::array();
  for (const auto& r : d.memory()) j["memory"].push_back({{"address", r.address}, {"size", r.bytes.size()}, {"memory64", r.from_memory64}});
  j["memory_info"] = json::array();
  for (const auto& i : d.memory_info()) {
    j["memory_info"].push_back({{"base", i.base}, {"size", i.size}, {"protect", i.protect}, {"state", i.state}, {"type", i.type}});
  }
  j["handles"] = json::array();
  for (const auto& h : d.handles()) {
    json e = {{"handle", h.handle}, {"granted_access", h.granted_access}};
    put_name(e, "type", h.type_name);
    put_name(e, "name", h.object_name);
    put_name(e, "details", fd_details(h));
    j["handles"].push_back(e);
  }
  j["tokens"] = json::array();
  for (const auto& t : d.tokens()) {
    json e = {{"id", t.id}, {"handle", t.handle}};
    put_name(e, "text", std::string_view(reinterpret_cast<const char*>(t.data.data()), t.data.size()));
    j["tokens"].push_back(e);
  }
  if (auto dso = d.dso_debug()) {
    j["dso_debug"] = {{"version", dso->version}, {"brk", dso->brk}, {"ldbase", dso->ldbase}, {"dynamic", dso->dynamic},
                      {"objects", json::array()}};
    for (const auto& o : dso->objects) {
      json e = {{"addr", o.addr}, {"ld", o.ld}};
      put_name(e, "name", o.name);
      j["dso_debug"]["objects"].push_back(e);
    }
  }
  j["omitted_memory"] = json::array();
  for (const auto& o : d.omitted_memory()) {
    json e = {{"start", o.start}, {"end", o.end}};
    put_name(e, "reason", o.reason);
    put_name(e, "path", o.path);
    j["omitted_memory"].push_back(e);
  }
  j["problems"] = json::array();
  for (const auto& p : d.problems()) j["problems"].push_back(json_display(p));
  return j;
}

void print_stream(std::FILE* out, const reader::Minidump& d, const std::string& name, bool json) {
  const reader::StreamEntry* entry = nullptr;
  for (const auto& s : d.streams()) {
    if (s.name == name) entry = &s;
  }
  if (!entry) {
    std::string known;
    for (const auto& s : d.streams()) known += (known.empty() ? "" : ", ") + s.name;
    throw std::invalid_argument(fmt::format("the dump has no stream '{}'; it has: {}", escape_text(name), known));
  }
  if (auto text = d.text_stream(entry->type)) {
    if (json) {
      nlohmann::json j = {{"stream", name}};
      put_name(j, "text", *text);
      fmt::print(out, "{}\n", json_text(j));
    } else {
      print_lines(out, *text, line_separator(entry->type), "");
    }
    return;
  }
  static const std::pair<const char*, const char*> kSections[] = {
      {"SystemInfo", "system"}, {"MiscInfo", "process"}, {"ThreadList", "threads"}, {"ThreadNames", "threads"},
      {"ThreadInfoList", "threads"}, {"ModuleList", "modules"}, {"MemoryList", "memory"}, {"Memory64List", "memory"},
      {"MemoryInfoList", "memory_info"}, {"HandleData", "handles"}, {"Exception", "exceptions"}, {"Token", "tokens"}, {"LinuxDsoDebug", "dso_debug"}};
  for (const auto& [stream, section] : kSections) {
    if (name == stream) {
      fmt::print(out, "{}\n", json_text(dump_to_json(d)[section]));
      return;
    }
  }
  auto bytes = d.stream(entry->type);
  std::vector<uint8_t> raw;
  if (bytes) raw.assign(bytes->begin(), bytes->end());
  if (json) {
    fmt::print(out, "{}\n", json_text(nlohmann::json{{"stream", name}, {"hex", to_hex(raw)}}));
    return;
  }
  for (size_t i = 0; i < raw.size(); i += 16) {
    std::vector<uint8_t> line(raw.begin() + i, raw.begin() + std::min(raw.size(), i + 16));
    fmt::print(out, "{:08x}  {}\n", i, to_hex(line));
  }
}

}  // namespace snapdump::cli
