// The snapdump command line, run as a user would: each command, and each error with its exit
// code (0 success, 1 failure, 2 usage) and a message naming the cause.
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::run_command;
using snapdump::testing::TargetProcess;

std::string temp_file(const char* name) {
  return (std::filesystem::temp_directory_path() / ("snapdump-cli-" + std::to_string(getpid()) + "-" + name)).string();
}

TEST(Cli, DumpThenInspectAsTextJsonAndOneStream) {
  auto target = TargetProcess::spawn({"--fds", "--heap-mib", "1"});
  std::string path = temp_file("dump.dmp");
  auto dump = testing::run_cli({"dump", std::to_string(target->pid()), "-o", path, "--type", "MiniDumpWithHandleData,WithThreadInfo"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find(path), std::string::npos) << dump.out;
  EXPECT_NE(dump.out.find("paused"), std::string::npos) << dump.out;

  auto text = testing::run_cli({"inspect", path});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("Threads ("), std::string::npos);
  EXPECT_NE(text.out.find("sd-nanosleep"), std::string::npos);
  EXPECT_NE(text.out.find("Handles ("), std::string::npos);

  auto json = testing::run_cli({"inspect", path, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["process"]["pid"].get<pid_t>(), target->pid());
  EXPECT_EQ(j["threads"].size(), target->report()["threads"].size());
  EXPECT_GE(j["handles"].size(), 15u);
  EXPECT_TRUE(j["problems"].empty());

  auto maps = testing::run_cli({"inspect", path, "--stream", "LinuxMaps"});
  ASSERT_EQ(maps.exit_code, 0) << maps.err;
  EXPECT_NE(maps.out.find("[stack]"), std::string::npos);
  auto missing = testing::run_cli({"inspect", path, "--stream", "NoSuchStream"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("NoSuchStream"), std::string::npos) << missing.err;
  std::filesystem::remove(path);
}

TEST(Cli, DefaultDumpNameFollowsProcDump) {
  auto target = TargetProcess::spawn({"--heap-mib", "1"});
  std::string dir = temp_file("cwd");
  std::filesystem::create_directories(dir);
  std::vector<std::string> argv = {"/bin/sh", "-c", "cd '" + dir + "' && exec '" SNAPDUMP_CLI_PATH "' dump " + std::to_string(target->pid())};
  auto r = run_command(argv, 120000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    // NAME_PID_YYMMDD_HHMMSS.dmp
    EXPECT_EQ(name.rfind("snapdump_target_" + std::to_string(target->pid()) + "_", 0), 0u) << name;
    EXPECT_EQ(name.size(), std::string("snapdump_target_").size() + std::to_string(target->pid()).size() + 1 + 13 + 4) << name;
    ++files;
  }
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

TEST(Cli, SnapshotPrintsTextAndJson) {
  auto target = TargetProcess::spawn({"--heap-mib", "1"});
  auto text = testing::run_cli({"snapshot", std::to_string(target->pid()), "--clone"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("clone mode"), std::string::npos) << text.out;
  auto json = testing::run_cli({"snapshot", std::to_string(target->pid()), "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["pid"].get<pid_t>(), target->pid());
  EXPECT_EQ(j["memory_mode"], "auxiliary-pages");
}

TEST(Cli, DemoRunsAndProvesPointInTime) {
  auto demo = testing::run_cli({"demo"});
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  EXPECT_NE(demo.out.find("Point in time"), std::string::npos);
  EXPECT_NE(demo.out.find("Modules ("), std::string::npos);
  auto at = demo.out.find("Wrote the minidump ");
  ASSERT_NE(at, std::string::npos);
  std::string path = demo.out.substr(at + 19, demo.out.find(' ', at + 19) - at - 19);
  EXPECT_TRUE(std::filesystem::exists(path)) << path;
  std::filesystem::remove(path);
}

TEST(Cli, ErrorsNameTheCauseWithTheirExitCodes) {
  pid_t gone = fork();
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  auto no_process = testing::run_cli({"dump", std::to_string(gone), "-o", temp_file("x.dmp")});
  EXPECT_EQ(no_process.exit_code, 1);
  EXPECT_NE(no_process.err.find("no process with PID " + std::to_string(gone)), std::string::npos) << no_process.err;

  auto target = TargetProcess::spawn({"--heap-mib", "1"});
  auto bad_path = testing::run_cli({"dump", std::to_string(target->pid()), "-o", "/nonexistent-dir/x.dmp"});
  EXPECT_EQ(bad_path.exit_code, 1);
  EXPECT_NE(bad_path.err.find("/nonexistent-dir/x.dmp"), std::string::npos) << bad_path.err;

  auto unknown_type = testing::run_cli({"dump", std::to_string(target->pid()), "--type", "WithEverything"});
  EXPECT_EQ(unknown_type.exit_code, 2);
  EXPECT_NE(unknown_type.err.find("WithEverything"), std::string::npos) << unknown_type.err;

  auto usage = testing::run_cli({"dump"});
  EXPECT_EQ(usage.exit_code, 2);
  auto no_command = testing::run_cli({});
  EXPECT_EQ(no_command.exit_code, 2);

  std::string corrupt = temp_file("corrupt.dmp");
  std::ofstream(corrupt) << "this is not a minidump at all, just some text for snapdump";
  auto bad_dump = testing::run_cli({"inspect", corrupt});
  EXPECT_EQ(bad_dump.exit_code, 1);
  EXPECT_NE(bad_dump.err.find("not a minidump"), std::string::npos) << bad_dump.err;
  std::filesystem::remove(corrupt);

  // A dump cut short: what can be read is shown, the problems are listed, and the exit code
  // says the file is not whole.
  std::string whole = temp_file("whole.dmp"), cut = temp_file("cut.dmp");
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "-o", whole}).exit_code, 0);
  {
    std::ifstream in(whole, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  auto truncated = testing::run_cli({"inspect", cut});
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.out.find("Problems ("), std::string::npos) << truncated.out;
  EXPECT_NE(truncated.out.find("outside the file"), std::string::npos) << truncated.out;
  EXPECT_NE(truncated.err.find("truncated or corrupt"), std::string::npos) << truncated.err;
  auto truncated_json = testing::run_cli({"inspect", cut, "--json"});
  EXPECT_EQ(truncated_json.exit_code, 1);
  EXPECT_FALSE(nlohmann::json::parse(truncated_json.out)["problems"].empty());
  EXPECT_EQ(testing::run_cli({"inspect", whole}).exit_code, 0);
  std::filesystem::remove(whole);
  std::filesystem::remove(cut);

  auto help = testing::run_cli({"dump", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--full"), std::string::npos);
}

}  // namespace
}  // namespace snapdump
