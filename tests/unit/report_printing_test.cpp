// The CLI's printers (tools/snapdump: snapshot and inspect, text and JSON) with hostile names:
// bytes that are not UTF-8, escape sequences, C1 and bidirectional controls, in every field
// that carries a name. JSON must be written, parse, and give back every name's exact bytes;
// text must hold nothing a terminal would act on, and unescaping it gives the bytes back.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dump_report.h"
#include "name_escape.h"
#include "snapdump/handle_text.h"
#include "snapshot_report.h"
#include "support/hostile_text.h"
#include "unit/dump_bytes.h"

namespace snapdump::cli {
namespace {

using snapdump::testing::hostile_names;
using snapdump::testing::terminal_safe_problem;

// What `print` writes to a FILE, as a string.
template <class F>
std::string printed(F print) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  print(out);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

// The exact bytes of member `key` of a parsed JSON object, by the rule of docs/names.md.
std::string name_bytes(const nlohmann::json& object, const std::string& key) {
  if (object.contains(key + "_base64")) {
    std::string bytes;
    EXPECT_TRUE(from_base64(object[key + "_base64"].get<std::string>(), bytes));
    return bytes;
  }
  return object[key].get<std::string>();
}

// The document as the CLI prints it, parsed back by a strict parser.
nlohmann::json round_trip(const nlohmann::json& document) {
  std::string text;
  EXPECT_NO_THROW(text = json_text(document));
  EXPECT_EQ(terminal_safe_problem(text), "");
  return nlohmann::json::parse(text);
}

// A snapshot's records with `name` in every field that holds a name: the thread's, the
// region's path (a module's too), the process's name, image and command line, and two handles
// whose names and details carry it (a socket's address, an inotify watch's path).
struct Records {
  ThreadEntry thread;
  Region region;
  ProcessInfo process;
  HandleEntry socket, inotify;
};

Records records_named(const std::string& name) {
  const std::pmr::string bytes(name.data(), name.size());
  Records r;
  r.thread.tid = 42;
  r.thread.name = bytes;
  r.region.path = bytes;
  r.region.elf.emplace();
  r.process.name = bytes;
  r.process.image_path = bytes;
  r.process.command_line = bytes;
  auto handle = [&](int fd, FdKind kind, const char* type, TypeSpecific details) {
    HandleEntry h;
    h.fd = fd;
    h.kind = kind;
    h.type_name = type;
    h.name = bytes;
    h.has_type_specific = true;
    h.type_specific = std::move(details);
    return h;
  };
  SocketInfo socket;
  socket.local_address = bytes;
  r.socket = handle(3, FdKind::socket, "Socket", socket);
  InotifyInfo inotify;
  inotify.watches.push_back({1, 2, 3, bytes});
  r.inotify = handle(4, FdKind::inotify, "Inotify", inotify);
  return r;
}

TEST(ReportPrinting, SnapshotRecordsKeepEveryNameInJson) {
  for (const std::string& name : hostile_names()) {
    SCOPED_TRACE(escape_text(name));
    const Records r = records_named(name);
    EXPECT_EQ(name_bytes(round_trip(thread_json(r.thread)), "name"), name);
    EXPECT_EQ(name_bytes(round_trip(region_json(r.region)), "path"), name);
    nlohmann::json p = round_trip(process_json(r.process));
    EXPECT_EQ(name_bytes(p, "name"), name);
    EXPECT_EQ(name_bytes(p, "image_path"), name);
    EXPECT_EQ(name_bytes(p, "command_line"), name);
    for (const HandleEntry* handle : {&r.socket, &r.inotify}) {
      nlohmann::json h = round_trip(handle_json(*handle));
      EXPECT_EQ(name_bytes(h, "name"), name);
      EXPECT_EQ(name_bytes(h, "details"), handle_details(*handle));
    }
    if (!name.empty()) {  // an empty address is left out of the details
      EXPECT_NE(handle_details(r.socket).find("local: " + name + "\n"), std::string::npos);
    }
  }
}

TEST(ReportPrinting, SnapshotRecordsReachTheTerminalEscaped) {
  for (const std::string& name : hostile_names()) {
    SCOPED_TRACE(escape_text(name));
    const Records r = records_named(name);
    const std::string text = printed([&](std::FILE* out) {
      print_process(out, r.process);
      print_thread(out, r.thread);
      print_module(out, r.region);
      print_region(out, r.region);
      print_handle(out, r.socket);
      print_handle(out, r.inotify);
    });
    EXPECT_EQ(terminal_safe_problem(text), "") << text;
    // Each field's line, unescaped, holds the name's exact bytes.
    const std::string back = unescape_text(text);
    EXPECT_NE(back.find("  42  " + name), std::string::npos);
    EXPECT_NE(back.find("command " + name + "\n"), std::string::npos);
    EXPECT_NE(back.find("Inotify    " + name + "\n"), std::string::npos);
  }
}

// A dump from a hostile or careless writer: every string the reader hands out holds what a
// terminal would act on, and the CPU vendor bytes are not UTF-8 (as LLDB 16 leaves them).
std::vector<uint8_t> hostile_dump() {
  using reader::Builder;
  Builder b;
  const uint32_t csd = b.put_string(u"Linux \u202e\u001b[2J");
  b.stream(reader::StreamType::SystemInfo, [&] {
    format::SystemInfo si{};
    si.processor_architecture = format::kArchitectureAmd64;
    si.csd_version_rva = csd;
    std::memcpy(si.cpu.vendor_id, "\x90\x5d\xda\xd3\x1b[2J\xc2\x9b\xff\x01", 12);
    b.put(si);
  });
  format::ContextAmd64 context{};
  context.context_flags = format::context_flags::kFull;
  const uint32_t context_rva = b.put_bytes(&context, 720);  // LLDB 16's size
  b.stream(reader::StreamType::ThreadList, [&] {
    b.put(uint32_t{1});
    format::Thread t{};
    t.thread_id = 9;
    t.thread_context = {720, context_rva};
    b.put(t);
  });
  const uint32_t thread_name = b.put_string(u"\u001b]0;owned\u0007\u009b");
  b.stream(reader::StreamType::ThreadNames, [&] {
    b.put(uint32_t{1});
    b.put(format::ThreadName{9, thread_name});
  });
  const uint32_t module_name = b.put_string(u"/lib/\u001b[31mlibc.so");
  b.stream(reader::StreamType::ModuleList, [&] {
    b.put(uint32_t{1});
    format::Module m{};
    m.module_name_rva = module_name;
    b.put(m);
  });
  const std::string details = "local: /tmp/sock_\xfe\x1b[0m\n";
  const uint32_t info = b.put(format::HandleObjectInformation{
      0, static_cast<uint32_t>(format::HandleObjectInfoType::LinuxFdText), static_cast<uint32_t>(details.size())});
  b.put_bytes(details.data(), details.size());
  const uint32_t type_name = b.put_string(u"Socket");
  b.stream(reader::StreamType::HandleData, [&] {
    b.put(format::HandleDataStreamHeader{sizeof(format::HandleDataStreamHeader), sizeof(format::HandleDescriptor2), 1, 0});
    b.put(format::HandleDescriptor2{3, type_name, thread_name, 0, 0, 1, 1, info, 0});
  });
  const std::string cpuinfo = "processor\t: 0\x1b[2J\n";
  b.stream(reader::StreamType::LinuxCpuInfo, [&] { b.put_bytes(cpuinfo.data(), cpuinfo.size()); });
  const std::string environ("A=\xff\x1b[2J\0B=ok\0", 13);
  b.stream(reader::StreamType::LinuxEnviron, [&] { b.put_bytes(environ.data(), environ.size()); });
  return b.finish();
}

TEST(ReportPrinting, DumpJsonKeepsEveryStringAndTheVendorBytes) {
  auto bytes = hostile_dump();
  reader::seed("hostile_names", bytes);
  auto dump = reader::Minidump::from_bytes(bytes);
  EXPECT_TRUE(dump.problems().empty()) << dump.problems().at(0);
  nlohmann::json j = round_trip(dump_to_json(dump));
  EXPECT_EQ(name_bytes(j["system"], "vendor"), "\x90\x5d\xda\xd3\x1b[2J\xc2\x9b\xff\x01");
  EXPECT_EQ(name_bytes(j["system"], "csd_version"), "Linux \xe2\x80\xae\x1b[2J");
  EXPECT_EQ(name_bytes(j["threads"][0], "name"), "\x1b]0;owned\x07\xc2\x9b");
  EXPECT_EQ(j["threads"][0]["context_layout"], "lldb");
  EXPECT_EQ(name_bytes(j["modules"][0], "name"), "/lib/\x1b[31mlibc.so");
  EXPECT_EQ(name_bytes(j["handles"][0], "details"), "local: /tmp/sock_\xfe\x1b[0m\n");

  nlohmann::json environ =
      nlohmann::json::parse(printed([&](std::FILE* out) { print_stream(out, dump, "LinuxEnviron", true); }));
  EXPECT_EQ(name_bytes(environ, "text"), std::string("A=\xff\x1b[2J\0B=ok\0", 13));
}

TEST(ReportPrinting, DumpTextHoldsNothingATerminalActsOn) {
  auto dump = reader::Minidump::from_bytes(hostile_dump());
  const std::string text = printed([&](std::FILE* out) { print_dump(out, dump); });
  EXPECT_EQ(terminal_safe_problem(text), "") << text;
  // 0x90 and 0xDA, 0xD3 are stray bytes; C2 9B is U+009B, a C1 control (CSI).
  EXPECT_NE(text.find("(\\x90]\\xda\\xd3\\x1b[2J\\u{009b}\\xff\\x01)"), std::string::npos) << text;
  EXPECT_NE(text.find("\\x1b]0;owned\\x07\\u{009b}"), std::string::npos) << text;
  EXPECT_NE(text.find("context: lldb, 720 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("local: /tmp/sock_\\xfe\\x1b[0m"), std::string::npos) << text;

  const std::string environ = printed([&](std::FILE* out) { print_stream(out, dump, "LinuxEnviron", false); });
  EXPECT_EQ(environ, "A=\\xff\\x1b[2J\nB=ok\n");
  // /proc text keeps the tabs that lay it out.
  const std::string cpuinfo = printed([&](std::FILE* out) { print_stream(out, dump, "LinuxCpuInfo", false); });
  EXPECT_EQ(cpuinfo, "processor\t: 0\\x1b[2J\n");
}

}  // namespace
}  // namespace snapdump::cli
