// The library's destinations (include/snapdump/dump_output.h): a new path has no name until the
// dump is whole, an existing file is kept unless replacing is asked for, a pipe, socket or FIFO
// takes a stream written in one forward pass (with the callbacks working as for a file, zeros
// where memory could not be read, and a cut stream read back as truncated), and what cannot take
// a dump is refused before anything is written.
#include <fcntl.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/dump_callbacks.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/file_bytes.h"
#include "support/target_process.h"
#include "support/temp_dir.h"

namespace snapdump {
namespace {

using testing::file_bytes;
using testing::parse_address;
using testing::TargetProcess;
using testing::TempDir;

// Everything written into a pipe, read on a thread while the dump is written.
class PipeReader {
 public:
  PipeReader() {
    if (pipe2(fds_, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    thread_ = std::thread([this] {
      uint8_t buf[65536];
      for (ssize_t n; (n = read(fds_[0], buf, sizeof buf)) > 0;) bytes_.insert(bytes_.end(), buf, buf + n);
    });
  }
  ~PipeReader() { finish(); }
  int fd() const { return fds_[1]; }
  // Closes the write end and returns all that came through.
  const std::vector<uint8_t>& finish() {
    if (fds_[1] >= 0) close(fds_[1]);
    fds_[1] = -1;
    if (thread_.joinable()) thread_.join();
    if (fds_[0] >= 0) close(fds_[0]);
    fds_[0] = -1;
    return bytes_;
  }

 private:
  int fds_[2] = {-1, -1};
  std::vector<uint8_t> bytes_;
  std::thread thread_;
};

Errc code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.code();
  }
  return Errc::internal;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(DumpOutput, ANewPathHasNoNameUntilTheDumpIsWholeAndIsPrivate) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  TempDir dir("lib-new");
  mode_t old = umask(0);  // the widest: the file must still be 0600
  DumpOutput out = DumpOutput::to_path(dir / "x.dmp");
  umask(old);
  EXPECT_EQ(out.kind(), DumpOutput::Kind::new_file);
  EXPECT_STREQ(out.temporary_name(), "") << "an O_TMPFILE file has no name to clean up";
  EXPECT_EQ(dir.entries().size(), 0u) << "the output is visible before the dump is written";
  DumpResult r = write_minidump(snap, out);
  struct stat st {};
  ASSERT_EQ(stat((dir / "x.dmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_uid, geteuid());
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), r.bytes);
  EXPECT_TRUE(reader::Minidump::open(dir / "x.dmp").problems().empty());
  EXPECT_EQ(code_of([&] { write_minidump(snap, out); }), Errc::invalid_argument) << "an output takes one dump";

  // Without O_TMPFILE: a temporary name beside it while written, gone after a failure.
  setenv("SNAPDUMP_TEST_NO_O_TMPFILE", "1", 1);
  DumpOutput named = DumpOutput::to_path(dir / "y.dmp");
  unsetenv("SNAPDUMP_TEST_NO_O_TMPFILE");
  EXPECT_NE(std::string(named.temporary_name()).find(dir / "y.dmp.snapdump-partial-"), std::string::npos)
      << named.temporary_name();
  EXPECT_TRUE(std::filesystem::exists(named.temporary_name()));
  struct Cancel : DumpCallbacks {
    CancelAnswer cancel() override { return {true, true}; }
  } cancel;
  DumpOptions options;
  options.callbacks = &cancel;
  EXPECT_EQ(code_of([&] { write_minidump(snap, named, options); }), Errc::cancelled);
  EXPECT_EQ(dir.entries().size(), 1u) << "a failed dump left a file behind";
}

TEST(DumpOutput, AnExistingFileIsKeptUnlessReplacingIsAskedFor) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  TempDir dir("lib-existing");
  std::string path = dir / "mine.dmp";
  std::ofstream(path) << "precious";
  std::string message = message_of([&] { write_minidump(snap, path); });
  EXPECT_NE(message.find(path + " already exists"), std::string::npos) << message;
  EXPECT_EQ(code_of([&] { write_minidump(snap, path); }), Errc::already_exists);
  EXPECT_EQ(file_bytes(path), std::vector<uint8_t>({'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'}));

  // Replacing, cancelled at the last check, the new file written but not yet in place: the
  // old file is untouched, nothing else is left. (The checks are counted on a dump that runs.)
  struct CancelAt : DumpCallbacks {
    int asked = 0, at = 0;
    CancelAnswer cancel() override { return {true, ++asked == at}; }
  } count, last;
  DumpOptions options;
  options.callbacks = &count;
  write_minidump(snap, dir / "counting.dmp", options);
  std::filesystem::remove(dir / "counting.dmp");
  last.at = count.asked;
  options.callbacks = &last;
  for (const char* no_tmpfile : {"0", "1"}) {
    setenv("SNAPDUMP_TEST_NO_O_TMPFILE", no_tmpfile, 1);
    last.asked = 0;
    message = message_of([&] { write_minidump(snap, path, options, {.replace_existing = true}); });
    EXPECT_NE(message.find("finishing the file"), std::string::npos) << message;
    auto kept = file_bytes(path);
    EXPECT_EQ(std::string(kept.begin(), kept.end()), "precious");
    EXPECT_EQ(dir.entries().size(), 1u);
  }
  unsetenv("SNAPDUMP_TEST_NO_O_TMPFILE");
  DumpResult r = write_minidump(snap, path, {}, {.replace_existing = true});
  EXPECT_EQ(file_bytes(path).size(), r.bytes);
  EXPECT_EQ(dir.entries().size(), 1u);
}

TEST(DumpOutput, ACallersPipeGetsTheDumpAsAStream) {
  auto target = TargetProcess::spawn({"--threads", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  PipeReader pipe;
  EXPECT_EQ(DumpOutput::to_fd(pipe.fd()).kind(), DumpOutput::Kind::stream);
  DumpResult r = write_minidump(snap, pipe.fd());
  const auto& bytes = pipe.finish();
  EXPECT_EQ(bytes.size(), r.bytes);
  auto d = reader::Minidump::from_bytes(bytes);
  EXPECT_TRUE(d.problems().empty()) << ::testing::PrintToString(d.problems());
  EXPECT_EQ(d.threads().size(), snap.threads().size());
}

// One full dump of the same snapshot into a file and into a stream: the same memory, the Vm*
// callbacks and IncludeVmRegion seen the same way, every byte of the stream written once.
TEST(DumpOutput, AStreamHoldsWhatAFileHoldsWithTheCallbacksWorking) {
  auto target = TargetProcess::spawn({"--threads", "2", "--heap-mib", "16"});
  const auto& secret = target->report()["markers"]["secret"];
  std::string text = secret["text"];
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  struct Watch : DumpCallbacks {
    std::string secret;
    int regions = 0;
    bool vm_start() override { return true; }
    bool include_vm_region(VmRegionInfo&) override { return ++regions, true; }
    VmReadAnswer vm_post_read(uint64_t, std::span<uint8_t> buffer, size_t completed, int error) override {
      auto end = buffer.begin() + static_cast<ptrdiff_t>(completed);
      for (auto it = buffer.begin(); (it = std::search(it, end, secret.begin(), secret.end())) != end;) {
        std::fill_n(it, secret.size(), 'X');
      }
      return {error, completed};
    }
    bool io_start() override { return false; }
  };
  Watch in_file, in_stream;
  in_file.secret = in_stream.secret = text;
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo;
  TempDir dir("lib-same");
  options.callbacks = &in_file;
  write_minidump(snap, dir / "f.dmp", options);
  PipeReader pipe;
  options.callbacks = &in_stream;
  DumpResult r = write_minidump(snap, pipe.fd(), options);
  const auto& bytes = pipe.finish();
  ASSERT_EQ(bytes.size(), r.bytes);
  EXPECT_EQ(r.zero_filled_bytes, 0u);
  EXPECT_EQ(r.direct_io_bytes, 0u);
  EXPECT_EQ(in_stream.regions, in_file.regions);
  EXPECT_GT(in_stream.regions, 0);
  auto f = reader::Minidump::open(dir / "f.dmp");
  auto s = reader::Minidump::from_bytes(bytes);
  EXPECT_TRUE(s.problems().empty()) << ::testing::PrintToString(s.problems());
  EXPECT_EQ(s.threads().size(), f.threads().size());
  EXPECT_EQ(s.memory().size(), f.memory().size());
  for (size_t i = 0; i < std::min(s.memory().size(), f.memory().size()); ++i) {
    EXPECT_EQ(s.memory()[i].address, f.memory()[i].address);
    EXPECT_TRUE(std::equal(s.memory()[i].bytes.begin(), s.memory()[i].bytes.end(), f.memory()[i].bytes.begin(),
                           f.memory()[i].bytes.end()))
        << std::hex << s.memory()[i].address;
  }
  uint64_t word = 0;
  ASSERT_EQ(s.read_memory(heap, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&word), 8)), 8u);
  EXPECT_EQ(word, testing::expected_heap_word(0));
  EXPECT_EQ(std::search(bytes.begin(), bytes.end(), text.begin(), text.end()), bytes.end()) << "VmPostRead's redaction";
  // Breakpad's reader takes the stream's bytes as they came.
  std::string copy = dir / "s.dmp";
  std::ofstream(copy, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  auto md = testing::run_minidump_dump(copy);
  EXPECT_TRUE(md.ok) << md.err;
}

TEST(DumpOutput, AStreamHoldsZerosWhereMemoryCouldNotBeReadAndAsksTheCallbackFirst) {
  auto target = TargetProcess::spawn({"--threads", "1", "--truncated-mapping"});
  const auto& m = target->report()["mappings"][0];
  uint64_t start = parse_address(m["start"]);
  uint64_t readable = m["readable"].get<uint64_t>();
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  struct Failures : DumpCallbacks {
    std::vector<uint64_t> at;
    bool read_memory_failure(uint64_t address, uint64_t, int) override { return at.push_back(address), true; }
  } cb;
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  options.callbacks = &cb;
  PipeReader pipe;
  DumpResult r = write_minidump(snap, pipe.fd(), options);
  const auto& bytes = pipe.finish();
  ASSERT_EQ(cb.at.size(), 1u);
  EXPECT_EQ(cb.at[0], start + readable);
  EXPECT_EQ(r.zero_filled_bytes, 2 * readable) << "the two pages past the file's end";
  auto d = reader::Minidump::from_bytes(bytes);
  EXPECT_TRUE(d.problems().empty()) << ::testing::PrintToString(d.problems());
  std::vector<uint8_t> got(3 * readable, 0xEE);
  ASSERT_EQ(d.read_memory(start, got), got.size()) << "a stream's table was final before the read failed";
  EXPECT_TRUE(std::all_of(got.begin(), got.begin() + static_cast<ptrdiff_t>(readable), [](uint8_t b) { return b == 0x5C; }));
  EXPECT_TRUE(std::all_of(got.begin() + static_cast<ptrdiff_t>(readable), got.end(), [](uint8_t b) { return b == 0; }));

  // No callback and no IgnoreInaccessibleMemory: the dump fails, and what the reader got reads
  // as truncated.
  options.callbacks = nullptr;
  PipeReader refused;
  EXPECT_EQ(code_of([&] { write_minidump(snap, refused.fd(), options); }), Errc::memory_unreadable);
  auto cut = reader::Minidump::from_bytes(refused.finish());
  ASSERT_FALSE(cut.problems().empty());
  EXPECT_EQ(cut.problems()[0].rfind("truncated: ", 0), 0u) << cut.problems()[0];
}

TEST(DumpOutput, AStreamCancelledHalfWayReadsAsTruncated) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "8"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  // Cancels at the first check after a bulk read (4 MiB chunks; a stack read is far smaller).
  struct CancelInMemory : DumpCallbacks {
    bool bulk = false;
    CancelAnswer cancel() override { return {true, bulk}; }
    bool vm_start() override { return true; }
    VmReadAnswer vm_post_read(uint64_t, std::span<uint8_t>, size_t completed, int error) override {
      bulk = bulk || completed >= (1u << 20);
      return {error, completed};
    }
  } cb;
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  options.callbacks = &cb;
  PipeReader pipe;
  EXPECT_EQ(code_of([&] { write_minidump(snap, pipe.fd(), options); }), Errc::cancelled);
  const auto& bytes = pipe.finish();
  ASSERT_GT(bytes.size(), 32u) << "the image was not written before the memory";
  auto d = reader::Minidump::from_bytes(bytes);
  ASSERT_FALSE(d.problems().empty());
  EXPECT_EQ(d.problems()[0].rfind("truncated: the file has " + std::to_string(bytes.size()) + " bytes", 0), 0u)
      << d.problems()[0];
  EXPECT_FALSE(d.threads().empty()) << "what came before the cut is still readable";
}

TEST(DumpOutput, AUnixSocketGetsAStream) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  TempDir dir("lib-socket");
  std::string path = dir / "sock";
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ASSERT_EQ(listen(listener, 1), 0);
  std::vector<uint8_t> got;
  std::thread server([&] {
    int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    uint8_t buf[65536];
    for (ssize_t n; (n = read(c, buf, sizeof buf)) > 0;) got.insert(got.end(), buf, buf + n);
    close(c);
  });
  {
    DumpOutput out = DumpOutput::to_path(path);
    EXPECT_EQ(out.kind(), DumpOutput::Kind::stream);
    write_minidump(snap, out);
  }  // the output closes the connection: the server sees its end
  server.join();
  close(listener);
  EXPECT_TRUE(reader::Minidump::from_bytes(got).problems().empty());
  struct stat st {};
  ASSERT_EQ(lstat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  // Nothing listening: said before anything is written.
  std::string message = message_of([&] { DumpOutput::to_path(path); });
  EXPECT_NE(message.find(path + " is a socket nothing listens on"), std::string::npos) << message;
}

TEST(DumpOutput, WhatCannotTakeADumpIsRefusedAndLeftAsItWas) {
  ASSERT_EQ(geteuid(), 0u) << "the suite runs as root (CI does): it makes a block device node and a link of another user";
  TempDir dir("lib-refused");
  std::string block = dir / "loop";
  ASSERT_EQ(mknod(block.c_str(), S_IFBLK | 0600, makedev(7, 200)), 0) << std::strerror(errno);
  std::string message = message_of([&] { DumpOutput::to_path(block); });
  EXPECT_NE(message.find(block + " is a block device"), std::string::npos) << message;
  struct stat st {};
  ASSERT_EQ(lstat(block.c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(code_of([&] { DumpOutput::to_path(dir.path); }), Errc::invalid_argument);
  EXPECT_EQ(code_of([&] { DumpOutput::to_path(dir / "no/such/dir/x.dmp"); }), Errc::invalid_argument);

  // A link planted in a sticky world-writable directory by another user is not followed.
  std::string shared = dir / "shared";
  std::filesystem::create_directories(shared);
  chmod(shared.c_str(), 01777);
  std::string planted = shared + "/x.dmp";
  std::filesystem::create_symlink(dir / "victim", planted);
  ASSERT_EQ(lchown(planted.c_str(), 65534, 65534), 0);
  EXPECT_EQ(code_of([&] { DumpOutput::to_path(planted); }), Errc::permission_denied);
  EXPECT_FALSE(std::filesystem::exists(dir / "victim"));

  // A caller's descriptor: a terminal, or one open for reading only.
  int master = -1, slave = -1;
  ASSERT_EQ(openpty(&master, &slave, nullptr, nullptr, nullptr), 0);
  message = message_of([&] { DumpOutput::to_fd(slave, "standard output"); });
  EXPECT_NE(message.find("standard output is a terminal"), std::string::npos) << message;
  close(master);
  close(slave);
  int ro = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
  EXPECT_EQ(code_of([&] { DumpOutput::to_fd(ro); }), Errc::invalid_argument);
  close(ro);
}

}  // namespace
}  // namespace snapdump
