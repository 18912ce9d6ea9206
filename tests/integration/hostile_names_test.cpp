// Names that are bytes, on a real target (snapdump_target --hostile-names): threads named
// "\xff\xfe" "bad" and with an SGR escape sequence, open files named "path_\xff.bin" and with an
// escape sequence that clears the screen, a unix socket bound to such a path, and the same
// kind of bytes in the command line and the environment. The CLI must exit 0, its JSON must
// give back every name's exact bytes (docs/names.md), and its text must hold nothing a
// terminal acts on.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/hostile_text.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::run_command;
using snapdump::testing::TargetProcess;
using snapdump::testing::terminal_safe_problem;

const std::string kTag = "tag_\xff\xfe\x1b[2J";
const std::string kEnvironmentValue = "\xfe\x1b]0;owned\x07";

std::string unhex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return bytes;
}

std::string from_base64(const std::string& text) {
  static const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  uint32_t group = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    group = (group << 6) | static_cast<uint32_t>(digits.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  return bytes;
}

// The exact bytes of a member under the JSON rule: KEY_base64 when present, else KEY.
std::string bytes_of(const nlohmann::json& object, const std::string& key) {
  if (object.contains(key + "_base64")) return from_base64(object[key + "_base64"].get<std::string>());
  return object.value(key, std::string());
}

// A target started with hostile bytes in its command line (--tag) and environment.
std::unique_ptr<TargetProcess> hostile_target() {
  setenv("SNAPDUMP_HOSTILE_VALUE", kEnvironmentValue.c_str(), 1);
  auto target = TargetProcess::spawn({"--hostile-names", "--heap-mib", "1", "--tag", kTag});
  unsetenv("SNAPDUMP_HOSTILE_VALUE");
  return target;
}

TEST(HostileNames, SnapshotJsonExitsZeroAndGivesBackEveryNamesBytes) {
  auto target = hostile_target();
  const nlohmann::json& hostile = target->report()["hostile_names"];
  ASSERT_EQ(hostile["threads"].size(), 2u);

  auto r = testing::run_cli({"snapshot", std::to_string(target->pid()), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(terminal_safe_problem(r.out), "");
  nlohmann::json j = nlohmann::json::parse(r.out);

  std::vector<std::string> thread_names;
  for (const auto& t : j["threads"]) thread_names.push_back(bytes_of(t, "name"));
  for (const auto& t : hostile["threads"]) {
    const std::string name = unhex(t["name_hex"].get<std::string>());
    EXPECT_NE(std::find(thread_names.begin(), thread_names.end(), name), thread_names.end()) << t.dump();
  }
  EXPECT_NE(std::find(thread_names.begin(), thread_names.end(), std::string("\xff\xfe" "bad")), thread_names.end());

  auto handle_with_fd = [&](int fd) -> nlohmann::json {
    for (const auto& h : j["handles"]) {
      if (h["fd"] == fd) return h;
    }
    return nullptr;
  };
  ASSERT_EQ(hostile["files"].size(), 2u);
  for (const auto& f : hostile["files"]) {
    nlohmann::json h = handle_with_fd(f["fd"].get<int>());
    ASSERT_FALSE(h.is_null()) << f.dump();
    EXPECT_EQ(bytes_of(h, "name"), unhex(f["path_hex"].get<std::string>()));
  }
  const std::string socket_path = unhex(hostile["socket"]["path_hex"].get<std::string>());
  nlohmann::json socket = handle_with_fd(hostile["socket"]["fd"].get<int>());
  ASSERT_FALSE(socket.is_null());
  EXPECT_NE(bytes_of(socket, "details").find("local: " + socket_path + "\n"), std::string::npos)
      << socket.dump();

  EXPECT_NE(bytes_of(j["process"], "command_line").find(kTag), std::string::npos) << j["process"].dump();
}

TEST(HostileNames, SnapshotTextHoldsNoRawEscape) {
  auto target = hostile_target();
  auto r = testing::run_cli({"snapshot", std::to_string(target->pid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(terminal_safe_problem(r.out), "");
  EXPECT_NE(r.out.find("\\xff\\xfebad"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\x1b[31mred\\x1b[0m"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("path_\\xff.bin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("esc_\\x1b[2J\\x1b[31m.bin"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sock_\\xfe\\x1b[0m"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tag_\\xff\\xfe\\x1b[2J"), std::string::npos) << r.out;
}

// The same names through a dump: inspect's text shows them escaped, its JSON parses, and the
// streams that carry bytes (the command line, the environment, a socket's details) give them
// back exactly.
TEST(HostileNames, InspectOfTheirDumpExitsZeroAndKeepsTheBytes) {
  auto target = hostile_target();
  const std::string path = testing::temp_dump_path("hostile-names.dmp");
  auto dump = testing::run_cli({"dump", std::to_string(target->pid()), "-o", path, "--type", "MiniDumpWithHandleData,WithThreadInfo"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;

  auto text = testing::run_cli({"inspect", path});
  ASSERT_EQ(text.exit_code, 0) << text.err << text.out;
  EXPECT_EQ(terminal_safe_problem(text.out), "");
  EXPECT_NE(text.out.find("\\x1b[31mred\\x1b[0m"), std::string::npos) << text.out;

  auto json = testing::run_cli({"inspect", path, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(terminal_safe_problem(json.out), "");
  nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_TRUE(j["problems"].empty());
  const std::string socket_path = unhex(target->report()["hostile_names"]["socket"]["path_hex"].get<std::string>());
  bool socket_found = false;
  for (const auto& h : j["handles"]) {
    socket_found = socket_found || bytes_of(h, "details").find("local: " + socket_path + "\n") != std::string::npos;
  }
  EXPECT_TRUE(socket_found) << j["handles"].dump();

  for (const char* stream : {"LinuxCmdLine", "LinuxEnviron"}) {
    auto r = testing::run_cli({"inspect", path, "--stream", stream, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(terminal_safe_problem(r.out), "");
    const std::string bytes = bytes_of(nlohmann::json::parse(r.out), "text");
    EXPECT_NE(bytes.find(std::string(stream) == "LinuxCmdLine" ? kTag : "SNAPDUMP_HOSTILE_VALUE=" + kEnvironmentValue),
              std::string::npos)
        << stream;
    auto shown = testing::run_cli({"inspect", path, "--stream", stream});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(terminal_safe_problem(shown.out), "") << stream;
  }
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
