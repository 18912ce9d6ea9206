// libFuzzer entry point for the CLI's printers (tools/snapdump): any bytes, read two ways.
//   1. As names: FuzzedDataProvider splits the input into a process's, a thread's, a region's
//      and a handle's names (with a socket's addresses, an inotify path and a memfd name), which
//      go through the snapshot printers.
//   2. As a minidump: whatever the reader makes of it goes through the inspect printers.
// Every JSON text must be written (json_text never throws), parse with a strict parser and
// give back each name's exact bytes; every text must hold nothing a terminal acts on; and
// unescape_text(escape_text(x)) == x. Anything else aborts.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dump_report.h"
#include "name_escape.h"
#include "snapdump/handle_text.h"
#include "snapshot_report.h"
#include "snapdump/reader.h"
#include "support/hostile_text.h"

using namespace snapdump;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void require_terminal_safe(const std::string& text) { require(testing::terminal_safe_problem(text).empty()); }

// The text a printer writes to a FILE.
template <class F>
std::string printed(F print) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  require(out != nullptr);
  print(out);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

nlohmann::json written_and_parsed(const nlohmann::json& document) {
  const std::string text = cli::json_text(document);
  require_terminal_safe(text);
  return nlohmann::json::parse(text);  // throws, and so aborts, on invalid JSON
}

void require_name(const nlohmann::json& object, const std::string& key, const std::string& bytes) {
  require(object.contains(key) && object[key].is_string());
  if (object.contains(key + "_base64")) {
    std::string decoded;
    require(cli::from_base64(object[key + "_base64"].get<std::string>(), decoded));
    require(decoded == bytes);
    require(!cli::is_utf8(bytes));
  } else {
    require(object[key].get<std::string>() == bytes);
  }
}

std::pmr::string pmr(const std::string& s) { return std::pmr::string(s.data(), s.size()); }

void names(FuzzedDataProvider& input) {
  const std::string a = input.ConsumeRandomLengthString(64), b = input.ConsumeRandomLengthString(64),
                    c = input.ConsumeRandomLengthString(64), d = input.ConsumeRandomLengthString(64);
  for (const std::string* s : {&a, &b, &c, &d}) {
    const std::string text = cli::escape_text(*s);
    require_terminal_safe(text);
    require(cli::unescape_text(text) == *s);
  }

  ProcessInfo process;
  process.name = pmr(a);
  process.image_path = pmr(b);
  process.command_line = pmr(c);
  ThreadEntry thread;
  thread.name = pmr(b);
  thread.context_flags = context::kFull;
  Region region;
  region.path = pmr(c);
  region.elf.emplace();
  HandleEntry socket_handle, inotify_handle, memfd_handle;
  socket_handle.name = pmr(d);
  socket_handle.type_name = pmr(a);
  socket_handle.has_type_specific = true;
  SocketInfo socket;
  socket.local_address = pmr(a);
  socket.remote_address = pmr(b);
  socket.state = pmr(c);
  socket_handle.type_specific = socket;
  inotify_handle.has_type_specific = true;
  InotifyInfo inotify;
  inotify.watches.push_back({1, 2, 3, pmr(d)});
  inotify_handle.type_specific = inotify;
  memfd_handle.has_type_specific = true;
  memfd_handle.type_specific = MemfdInfo{pmr(c), 4096, 0};

  const nlohmann::json p = written_and_parsed(cli::process_json(process));
  require_name(p, "name", a);
  require_name(p, "image_path", b);
  require_name(p, "command_line", c);
  require_name(written_and_parsed(cli::thread_json(thread)), "name", b);
  require_name(written_and_parsed(cli::region_json(region)), "path", c);
  for (const HandleEntry* h : {&socket_handle, &inotify_handle, &memfd_handle}) {
    const nlohmann::json j = written_and_parsed(cli::handle_json(*h));
    require_name(j, "name", std::string(h->name));
    require_name(j, "details", handle_details(*h));
  }
  require_terminal_safe(printed([&](std::FILE* out) {
    cli::print_process(out, process);
    cli::print_thread(out, thread);
    cli::print_module(out, region);
    cli::print_region(out, region);
    for (const HandleEntry* h : {&socket_handle, &inotify_handle, &memfd_handle}) cli::print_handle(out, *h);
  }));
}

void dump(const uint8_t* data, size_t size) {
  try {
    auto d = reader::Minidump::from_bytes(std::vector<uint8_t>(data, data + size));
    written_and_parsed(cli::dump_to_json(d));
    require_terminal_safe(printed([&](std::FILE* out) { cli::print_dump(out, d); }));
    // --stream for the text streams and the unknown ones (a hex dump), each name once and at
    // most four: a stream dump_to_json has a section for prints that section, which the lines
    // above already checked, and building the whole JSON again per stream would make an input
    // with hundreds of directory entries take seconds.
    std::set<std::string> shown;
    for (const auto& s : d.streams()) {
      if (shown.size() == 4) break;
      if (!d.text_stream(s.type) && s.name.rfind("0x", 0) != 0) continue;
      if (!shown.insert(s.name).second) continue;
      for (bool json : {false, true}) {
        const std::string text = printed([&](std::FILE* out) { cli::print_stream(out, d, s.name, json); });
        require_terminal_safe(text);
        if (json) (void)nlohmann::json::parse(text);
      }
    }
  } catch (const Error& e) {
    require(e.code() == Errc::corrupt_input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider input(data, size);
  names(input);
  dump(data, size);
  return 0;
}
