// The MINIDUMP_TYPE flags whose Linux meaning is a decision (docs/minidump.md):
// WithTokenInformation (the process's credentials), WithUnloadedModules (Linux remembers none:
// an empty list) and WithIptTrace (refused before the target is touched).
#include <string_view>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing::TargetProcess;

std::string status_line(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return line;
  }
  return "";
}

std::string write(const TargetProcess& target, DumpType type, const char* name) {
  Snapshot snap = Snapshot::capture(target.pid(), capture_flags_for(type));
  std::string path = testing::temp_dump_path(name);
  DumpOptions options;
  options.type = type;
  write_minidump(snap, path, options);
  return path;
}

TEST(TokenStream, HoldsTheProcessCredentials) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  std::string path = write(*target, dump::kWithTokenInformation, "token");
  auto d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty());
  auto tokens = d.tokens();
  ASSERT_EQ(tokens.size(), 1u);
  EXPECT_EQ(tokens[0].id, 0u);
  EXPECT_EQ(tokens[0].handle, 0u);
  std::string text(tokens[0].data.begin(), tokens[0].data.end());
  for (const char* field : {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
                            "NoNewPrivs:", "Seccomp:"}) {
    std::string expected = status_line(target->pid(), field);
    ASSERT_FALSE(expected.empty()) << field;
    EXPECT_NE(text.find(expected + "\n"), std::string::npos) << field << " in\n" << text;
  }
  // Nothing but credentials: no memory figures, no name.
  EXPECT_EQ(text.find("VmRSS"), std::string::npos) << text;
  EXPECT_EQ(text.find("Name:"), std::string::npos) << text;

  auto lldb = testing::lldb_batch(path, {"thread list"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  auto sw = testing::run_minidump_stackwalk(path);
  EXPECT_TRUE(sw.ok) << sw.raw << sw.err;
  std::filesystem::remove(path);
}

TEST(TokenStream, OnlyWithTheFlag) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  std::string path = write(*target, dump::kNormal, "no_token");
  auto d = testing::read_dump(path);
  EXPECT_TRUE(d.tokens().empty());
  EXPECT_FALSE(d.stream(static_cast<uint32_t>(format::StreamType::Token)).has_value());
  EXPECT_FALSE(d.stream(static_cast<uint32_t>(format::StreamType::UnloadedModuleList)).has_value());
  std::filesystem::remove(path);
}

TEST(UnloadedModules, TheListIsWrittenAndEmptyAndTheClosedLibraryIsGone) {
  auto target = TargetProcess::spawn({"--libs"});
  const auto& libs = target->report()["libs"];
  ASSERT_FALSE(libs["unloaded"]["still_mapped"].get<bool>()) << "dlclose must have unmapped it";
  std::string path = write(*target, dump::kWithUnloadedModules, "unloaded");
  auto d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty());
  auto stream = d.stream(static_cast<uint32_t>(format::StreamType::UnloadedModuleList));
  ASSERT_TRUE(stream.has_value()) << "the flag was given: the stream is there, saying none is known";
  EXPECT_EQ(stream->size(), sizeof(format::UnloadedModuleListHeader));
  EXPECT_TRUE(d.unloaded_modules().empty());
  auto modules = d.modules();
  auto named = [&](const std::string& path) {
    return std::any_of(modules.begin(), modules.end(), [&](const auto& m) { return m.name == path; });
  };
  EXPECT_TRUE(named(libs["plugin"]["path"].get<std::string>()));
  EXPECT_FALSE(named(libs["unloaded"]["path"].get<std::string>()));
  auto lldb = testing::lldb_batch(path, {"image list"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  std::filesystem::remove(path);
}

TEST(IptTrace, RefusedBeforeTheTargetIsTouched) {
  try {
    check_dump_type(dump::kWithIptTrace | dump::kWithFullMemory);
    ADD_FAILURE() << "WithIptTrace accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_supported);
    EXPECT_NE(std::string(e.what()).find("MiniDumpWithIptTrace"), std::string::npos) << e.what();
  }
  auto target = TargetProcess::spawn({"--threads", "1"});
  std::string path = testing::temp_dump_path("ipt");
  auto r = testing::run_command({SNAPDUMP_CLI_PATH, "dump", std::to_string(target->pid()), "--type", "WithIptTrace", "-o", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not supported"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("MiniDumpWithIptTrace"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(status_line(target->pid(), "TracerPid:"), "TracerPid:\t0");
}

}  // namespace
}  // namespace snapdump

namespace snapdump {
namespace {

// LinuxDsoDebug: the dynamic linker's list, as a core-file converter needs it.
TEST(DsoDebugStream, ListsWhatTheDynamicLinkerHasLoaded) {
  auto target = testing::TargetProcess::spawn({"--libs"});
  std::string path = write(*target, dump::kNormal, "dso_debug");
  auto d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty());
  auto dso = d.dso_debug();
  ASSERT_TRUE(dso.has_value());
  EXPECT_EQ(dso->version, 1u);
  EXPECT_NE(dso->brk, 0u);
  EXPECT_NE(dso->ldbase, 0u);
  EXPECT_FALSE(dso->dynamic_section.empty());
  EXPECT_EQ(dso->dynamic_section.size() % 16, 0u);
  ASSERT_GE(dso->objects.size(), 4u);
  EXPECT_EQ(std::string_view(dso->objects[0].name), "") << "the main program comes first, unnamed";
  const auto& libs = target->report()["libs"];
  auto modules = d.modules();
  auto object = [&](const std::string& name) -> const reader::DsoDebugView::Object* {
    for (const auto& o : dso->objects) {
      if (o.name == name) return &o;
    }
    return nullptr;
  };
  const auto* plugin = object(libs["plugin"]["path"].get<std::string>());
  ASSERT_NE(plugin, nullptr);
  auto module = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.name == plugin->name; });
  ASSERT_NE(module, modules.end());
  EXPECT_EQ(plugin->addr, module->base) << "a shared library's load bias is its base";
  EXPECT_EQ(object(libs["unloaded"]["path"].get<std::string>()), nullptr) << "dlclose removed it from the list";
  auto dumped = testing::run_minidump_dump(path);
  EXPECT_EQ(dumped.streams.count(0x4767000A), 1u) << dumped.raw;
  EXPECT_EQ(dumped.streams[0x4767000A], "MD_LINUX_DSO_DEBUG") << dumped.raw;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
