// `snapdump dump -o`: what each kind of destination gets (docs/minidump.md, "Output"), run as a
// user would: a new path, an existing file (kept; --force replaces it), a symbolic link (written
// through), a FIFO, standard output, /dev/null and /dev/full (which stay devices), the paths that
// cannot work (refused before the target is stopped, naming the user's path), and the mode of
// what is created.
#include <fcntl.h>
#include <pty.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "snapdump/reader.h"
#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/file_bytes.h"
#include "support/target_process.h"
#include "support/temp_dir.h"

namespace snapdump {
namespace {

using testing::CommandResult;
using testing::file_bytes;
using testing::run_command;
using testing::TargetProcess;
using testing::TempDir;

// The CLI through /bin/sh, for what a user's shell sets up: a umask, a working directory, an
// environment variable, a pipe.
CommandResult sh(const std::string& script) { return run_command({"/bin/sh", "-c", script}, 120000); }

uint64_t epoll_eintr(TargetProcess& target) {
  auto hb = target.heartbeat();
  if (!hb.contains("eintr") || !hb["eintr"].contains("sd-epoll")) return 0;
  return hb["eintr"]["sd-epoll"].get<uint64_t>();
}

void expect_whole_dump(const std::vector<uint8_t>& bytes, pid_t pid) {
  auto d = reader::Minidump::from_bytes(bytes);
  EXPECT_TRUE(d.problems().empty()) << ::testing::PrintToString(d.problems());
  ASSERT_TRUE(d.misc_info().has_value());
  EXPECT_EQ(d.misc_info()->pid, std::optional<uint32_t>(static_cast<uint32_t>(pid)));
  EXPECT_FALSE(d.threads().empty());
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

TEST(CliOutput, DashWritesTheDumpToStandardOutputAndNoFileNamedDash) {
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  TempDir dir("out-dash");
  std::string pid = std::to_string(target->pid());
  // Piped into a reader (run_command reads the pipe), from inside the directory.
  auto r = sh("cd '" + dir.path + "' && exec '" SNAPDUMP_CLI_PATH "' dump " + pid + " --full -o -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_whole_dump(std::vector<uint8_t>(r.out.begin(), r.out.end()), target->pid());
  // The summary went to standard error, where it cannot corrupt the dump.
  EXPECT_NE(r.err.find("standard output: "), std::string::npos) << r.err;
  EXPECT_TRUE(dir.entries().empty()) << ::testing::PrintToString(dir.entries());

  // The same bytes a compressor would take: | zstd, then unpacked again.
  auto z = sh("'" SNAPDUMP_CLI_PATH "' dump " + pid + " -o - | zstd -q -c > '" + (dir / "d.dmp.zst") +
              "' && zstd -q -d '" + (dir / "d.dmp.zst") + "' -o '" + (dir / "d.dmp") + "'");
  ASSERT_EQ(z.exit_code, 0) << z.err;
  expect_whole_dump(file_bytes(dir / "d.dmp"), target->pid());
  auto stackwalk = testing::run_minidump_dump(dir / "d.dmp");
  EXPECT_FALSE(stackwalk.thread_ids.empty()) << stackwalk.err;
}

TEST(CliOutput, DashOnATerminalIsRefusedBeforeTheTargetIsTouched) {
  auto target = TargetProcess::spawn({});
  target->command("reset");
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0) << std::strerror(errno);
  // stdout on the terminal, stderr collected through a pipe.
  int err[2];
  ASSERT_EQ(pipe(err), 0);
  pid_t child = fork();
  if (child == 0) {
    dup2(slave, STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    std::string pid = std::to_string(target->pid());
    execl(SNAPDUMP_CLI_PATH, "snapdump", "dump", pid.c_str(), "-o", "-", nullptr);
    _exit(127);
  }
  close(err[1]);
  close(slave);
  std::string message;
  char buf[512];
  for (ssize_t n; (n = read(err[0], buf, sizeof buf)) > 0;) message.append(buf, static_cast<size_t>(n));
  int status = 0;
  waitpid(child, &status, 0);
  close(err[0]);
  close(master);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  EXPECT_NE(message.find("standard output is a terminal"), std::string::npos) << message;
  EXPECT_EQ(epoll_eintr(*target), 0u) << "the target was stopped before the refusal";
}

TEST(CliOutput, FifoGetsAStreamItsReaderAndMinidumpDumpAccept) {
  auto target = TargetProcess::spawn({"--heap-mib", "8"});
  TempDir dir("out-fifo");
  std::string fifo = dir / "pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // This end, held open for writing too, lets the reader's open return at once and its read
  // end only when snapdump's end and this one are closed: a snapdump that never opens the FIFO
  // (one that replaced it) cannot leave the reader hanging.
  int holder = open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(holder, 0);
  std::vector<uint8_t> got;
  std::thread reader([&] {
    int fd = open(fifo.c_str(), O_RDONLY | O_CLOEXEC);
    uint8_t buf[65536];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) got.insert(got.end(), buf, buf + n);
    close(fd);
  });
  auto r = testing::run_cli({"dump", std::to_string(target->pid()), "--full", "-o", fifo});
  close(holder);
  reader.join();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(S_ISFIFO(mode_of(fifo))) << "the FIFO was replaced";
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"pipe"});
  expect_whole_dump(got, target->pid());
  std::string copy = dir / "copy.dmp";
  std::ofstream(copy, std::ios::binary).write(reinterpret_cast<const char*>(got.data()), static_cast<std::streamsize>(got.size()));
  auto md = testing::run_minidump_dump(copy);
  EXPECT_TRUE(md.ok) << md.err;  // exits 0 once the dump carries a MemoryInfoList, as --full's does
  EXPECT_FALSE(md.thread_ids.empty()) << md.err;
}

// A snapdump that fails this test replaces the machine's /dev/null (as the one of issue 12 did):
// the device is put back, so that one failure does not break every later test and the machine.
struct DeviceGuard {
  const char* path;
  dev_t rdev;
  ~DeviceGuard() {
    struct stat st {};
    if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == rdev) return;
    unlink(path);
    mknod(path, S_IFCHR | 0666, rdev);
    chmod(path, 0666);
    ADD_FAILURE() << path << " had to be made again";
  }
};

TEST(CliOutput, DevNullStaysADeviceAndDevFullFailsNamingIt) {
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does): only root could replace /dev/null";
  DeviceGuard null_guard{"/dev/null", makedev(1, 3)}, full_guard{"/dev/full", makedev(1, 7)};
  auto target = TargetProcess::spawn({"--heap-mib", "4"});
  struct stat before {};
  ASSERT_EQ(stat("/dev/null", &before), 0);
  auto null = testing::run_cli({"dump", std::to_string(target->pid()), "--full", "-o", "/dev/null"});
  EXPECT_EQ(null.exit_code, 0) << null.err;
  struct stat after {};
  ASSERT_EQ(stat("/dev/null", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode)) << "/dev/null is no longer a device";
  EXPECT_EQ(after.st_rdev, before.st_rdev);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode, before.st_mode) << "its mode was changed";

  auto full = testing::run_cli({"dump", std::to_string(target->pid()), "-o", "/dev/full"});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_NE(full.err.find("no space"), std::string::npos) << full.err;
  EXPECT_NE(full.err.find("/dev/full"), std::string::npos) << full.err;
  EXPECT_TRUE(S_ISCHR(mode_of("/dev/full")));
}

TEST(CliOutput, SymlinkIsWrittenThroughAndStaysALink) {
  auto target = TargetProcess::spawn({});
  TempDir dir("out-link");
  std::filesystem::create_directories(dir / "real");
  std::filesystem::create_symlink("real/x.dmp", dir / "link.dmp");  // dangling until written
  auto r = testing::run_cli({"dump", std::to_string(target->pid()), "-o", dir / "link.dmp"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(S_ISLNK(mode_of(dir / "link.dmp"))) << "the link was replaced by a file";
  expect_whole_dump(file_bytes(dir / "real/x.dmp"), target->pid());

  // A link to an existing file: kept without --force, written through with it.
  auto kept = testing::run_cli({"dump", std::to_string(target->pid()), "-o", dir / "link.dmp"});
  EXPECT_EQ(kept.exit_code, 1);
  EXPECT_NE(kept.err.find(dir / "link.dmp"), std::string::npos) << kept.err;
  auto forced = testing::run_cli({"dump", std::to_string(target->pid()), "-o", dir / "link.dmp", "--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_TRUE(S_ISLNK(mode_of(dir / "link.dmp")));
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"link.dmp", "real"}));
  EXPECT_EQ(std::filesystem::directory_iterator(dir / "real")->path().filename(), "x.dmp");
}

TEST(CliOutput, ExistingFileIsKeptUnlessForceReplacesIt) {
  auto target = TargetProcess::spawn({});
  TempDir dir("out-force");
  std::string path = dir / "old.dmp";
  std::ofstream(path) << "the user's own file";
  chmod(path.c_str(), 0644);
  struct stat old {};
  stat(path.c_str(), &old);
  target->command("reset");
  auto kept = testing::run_cli({"dump", std::to_string(target->pid()), "-o", path});
  EXPECT_EQ(kept.exit_code, 1);
  EXPECT_NE(kept.err.find(path + " already exists"), std::string::npos) << kept.err;
  EXPECT_NE(kept.err.find("--force"), std::string::npos) << kept.err;
  auto bytes = file_bytes(path);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "the user's own file");
  EXPECT_EQ(epoll_eintr(*target), 0u) << "the target was stopped although the output was refused";

  auto forced = sh("umask 022 && exec '" SNAPDUMP_CLI_PATH "' dump " + std::to_string(target->pid()) + " -o '" +
                   path + "' --force");
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  expect_whole_dump(file_bytes(path), target->pid());
  struct stat now {};
  stat(path.c_str(), &now);
  EXPECT_NE(now.st_ino, old.st_ino) << "replaced in place instead of renamed over";
  EXPECT_EQ(now.st_mode & 07777, 0600u);
  EXPECT_EQ(now.st_uid, geteuid());
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"old.dmp"});
}

TEST(CliOutput, DumpsAreCreated0600WhateverTheUmask) {
  auto target = TargetProcess::spawn({});
  TempDir dir("out-mode");
  std::string pid = std::to_string(target->pid());
  struct Case {
    const char* umask;
    const char* env;
    const char* name;
  } cases[] = {{"022", "", "new.dmp"},
               {"000", "", "open.dmp"},
               {"277", "", "strict.dmp"},
               {"022", "SNAPDUMP_TEST_NO_O_TMPFILE=1 ", "named.dmp"}};
  for (const Case& c : cases) {
    auto r = sh(std::string("umask ") + c.umask + " && " + c.env + "exec '" SNAPDUMP_CLI_PATH "' dump " + pid +
                " -o '" + (dir / c.name) + "'");
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.err;
    EXPECT_EQ(mode_of(dir / c.name) & 07777, 0600u) << c.name << " under umask " << c.umask;
    EXPECT_EQ(std::filesystem::file_size(dir / c.name), file_bytes(dir / c.name).size());
  }
  // --force through the temporary name too.
  auto r = sh("umask 000 && SNAPDUMP_TEST_NO_O_TMPFILE=1 exec '" SNAPDUMP_CLI_PATH "' dump " + pid + " -o '" +
              (dir / "new.dmp") + "' --force");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(mode_of(dir / "new.dmp") & 07777, 0600u);
  EXPECT_EQ(dir.entries(), (std::vector<std::string>{"named.dmp", "new.dmp", "open.dmp", "strict.dmp"}));
}

// Every path that cannot take a dump is refused before the target is stopped (its epoll thread
// gets EINTR from any stop, so a count of 0 proves none happened), naming the user's path and
// never a temporary name.
TEST(CliOutput, PathsThatCannotWorkAreRefusedBeforeTheStop) {
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does): it mounts a read-only tmpfs and drops to uid 65534";
  auto target = TargetProcess::spawn({});
  std::string pid = std::to_string(target->pid());
  TempDir dir("out-refused");
  std::string ro = dir / "ro";
  std::filesystem::create_directories(ro);
  ASSERT_EQ(mount("tmpfs", ro.c_str(), "tmpfs", MS_RDONLY, "size=1m"), 0) << std::strerror(errno);
  std::filesystem::create_directories(dir / "a-directory");
  std::filesystem::create_directories(dir / "closed");
  chmod((dir / "closed").c_str(), 0755);
  struct Case {
    std::vector<std::string> command;
    std::string path, says;
  } cases[] = {
      {{SNAPDUMP_CLI_PATH, "dump", pid, "--full", "-o", dir / "missing/x.dmp"}, dir / "missing/x.dmp", "does not exist"},
      {{SNAPDUMP_CLI_PATH, "dump", pid, "--full", "-o", ro + "/x.dmp"}, ro + "/x.dmp", "read-only file system"},
      {{SNAPDUMP_CLI_PATH, "dump", pid, "--full", "-o", dir / "a-directory"}, dir / "a-directory", "is a directory"},
      {{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", SNAPDUMP_CLI_PATH, "dump", pid,
        "--full", "-o", dir / "closed/x.dmp"},
       dir / "closed/x.dmp",
       "no permission"},
  };
  for (const Case& c : cases) {
    target->command("reset");
    auto r = run_command(c.command, 120000);
    EXPECT_EQ(r.exit_code, 1) << c.path << ": " << r.err;
    EXPECT_NE(r.err.find(c.path), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("snapdump-partial"), std::string::npos) << r.err;
    EXPECT_EQ(epoll_eintr(*target), 0u) << c.path << ": the target was stopped before the refusal";
  }
  EXPECT_TRUE(std::filesystem::is_empty(ro));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "a-directory"));
  EXPECT_TRUE(std::filesystem::is_empty(dir / "closed"));
  // The measure can fail: a dump that does stop the target shows up in the same count.
  target->command("reset");
  ASSERT_EQ(testing::run_cli({"dump", pid, "-o", dir / "ok.dmp"}).exit_code, 0);
  EXPECT_EQ(epoll_eintr(*target), 1u);
  umount(ro.c_str());
}

TEST(CliOutput, AStreamCutShortFailsAndInspectSaysTruncated) {
  auto target = TargetProcess::spawn({"--heap-mib", "16"});
  TempDir dir("out-cut");
  std::string cut = dir / "cut.dmp";
  // The reader stops after 1 MiB: snapdump learns it (EPIPE), says so, and fails.
  auto r = run_command({"/bin/bash", "-c",
                        "'" SNAPDUMP_CLI_PATH "' dump " + std::to_string(target->pid()) +
                            " --full -o - | head -c 1048576 > '" + cut + "'; echo ${PIPESTATUS[0]}"},
                       120000);
  EXPECT_EQ(r.out, "1\n") << "snapdump's exit status";
  EXPECT_NE(r.err.find("the reader of standard output went away"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("incomplete"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::file_size(cut), 1048576u);
  auto inspect = testing::run_cli({"inspect", cut});
  EXPECT_EQ(inspect.exit_code, 1);
  EXPECT_NE(inspect.out.find("truncated: the file has 1048576 bytes"), std::string::npos) << inspect.out;
  EXPECT_NE(inspect.err.find("the dump is truncated"), std::string::npos) << inspect.err;
}

TEST(CliOutput, HelpSaysWhatEachOutputKindGets) {
  auto help = testing::run_cli({"dump", "--help"});
  ASSERT_EQ(help.exit_code, 0);
  for (const char* words : {"--force", "standard output", "FIFO", "symbolic link", "0600", "O_TMPFILE", "SIGINT",
                            "truncated", "block device"}) {
    EXPECT_NE(help.out.find(words), std::string::npos) << words;
  }
}

}  // namespace
}  // namespace snapdump
