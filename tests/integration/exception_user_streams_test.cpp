// The Exception stream (DumpOptions::exception, MINIDUMP_EXCEPTION_INFORMATION) and user streams
// (DumpOptions::user_streams, MINIDUMP_USER_STREAM_INFORMATION): what the file holds, and what
// LLDB and minidump_stackwalk make of it.
#include <signal.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/format/structs.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing::TargetProcess;

uint32_t tid_of(const TargetProcess& target, const std::string& kind) {
  for (const auto& t : target.report()["threads"]) {
    if (t["kind"] == kind) return t["tid"].get<uint32_t>();
  }
  throw std::runtime_error("no " + kind + " thread");
}

const ThreadEntry& thread_of(const Snapshot& s, uint32_t tid) {
  for (const ThreadEntry& t : s.threads()) {
    if (static_cast<uint32_t>(t.tid) == tid) return t;
  }
  throw std::runtime_error("thread not captured");
}

// The dump must fail with invalid_argument naming `words`, and leave no file at `path`.
void expect_invalid(const Snapshot& snap, const std::string& path, const DumpOptions& options,
                    const std::string& words) {
  try {
    write_minidump(snap, path, options);
    ADD_FAILURE() << "accepted: " << words;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

class ExceptionStream : public ::testing::Test {
 protected:
  void SetUp() override {
    target = TargetProcess::spawn({"--threads", "6"});
    snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
    path = testing::temp_dump_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove(path); }
  std::unique_ptr<TargetProcess> target;
  Snapshot snap;
  std::string path;
};

TEST_F(ExceptionStream, SignalCodeAddressAndTheThreadsContext) {
  uint32_t tid = tid_of(*target, "nanosleep");
  DumpOptions options;
  options.exception = DumpException{tid, SIGSEGV, 1 /* SEGV_MAPERR */, 0xdead0, {}};
  write_minidump(snap, path, options);

  auto d = testing::read_dump(path);
  auto exceptions = d.exceptions();
  ASSERT_EQ(exceptions.size(), 1u);
  const auto& e = exceptions[0];
  EXPECT_EQ(e.tid, tid);
  EXPECT_EQ(e.code, static_cast<uint32_t>(SIGSEGV));
  EXPECT_EQ(e.flags, 1u);
  EXPECT_EQ(e.address, 0xdead0u);
  ASSERT_TRUE(e.context.has_value());
  EXPECT_EQ(e.context->rip, thread_of(snap, tid).regs.rip);
  EXPECT_EQ(e.context->rsp, thread_of(snap, tid).regs.rsp);

  // LLDB stops the exception's thread with the signal; the others have no stop reason.
  auto lldb = testing::lldb_batch(path, {"thread list"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  std::string tid_text = "tid = " + std::to_string(tid);
  size_t line_start = lldb.out.find(tid_text);
  ASSERT_NE(line_start, std::string::npos) << lldb.out;
  std::string line = lldb.out.substr(line_start, lldb.out.find('\n', line_start) - line_start);
  EXPECT_NE(line.find("stop reason = signal SIGSEGV"), std::string::npos) << lldb.out;

  // minidump_stackwalk names the signal, its code, the address and the crashing thread.
  auto sw = testing::run_minidump_stackwalk(path);
  ASSERT_TRUE(sw.ok) << sw.raw << sw.err;
  EXPECT_NE(sw.crash_reason.find("SIGSEGV"), std::string::npos) << sw.raw;
  EXPECT_NE(sw.raw.find("0xdead0"), std::string::npos) << sw.raw;
  ASSERT_GE(sw.crashed_thread, 0) << sw.raw;
  auto threads = d.threads();
  ASSERT_LT(static_cast<size_t>(sw.crashed_thread), threads.size());
  EXPECT_EQ(threads[sw.crashed_thread].tid, tid);
}

TEST_F(ExceptionStream, AddressDefaultsToTheInstructionPointerAndAContextCanBeGiven) {
  uint32_t tid = tid_of(*target, "pipe_read");
  const ThreadEntry& t = thread_of(snap, tid);
  // A signal handler's view of the registers: the caller's CONTEXT replaces the captured one.
  format::ContextAmd64 context{};
  context.context_flags = 0x10000b;  // CONTEXT_AMD64 | CONTROL | INTEGER | FLOATING_POINT
  context.rip = t.regs.rip + 2;
  context.rsp = t.regs.rsp;
  context.rax = 0x1234;
  DumpException ex{tid, SIGBUS, 2, 0, {}};
  ex.context.resize(sizeof context);
  std::memcpy(ex.context.data(), &context, sizeof context);
  DumpOptions options;
  options.exception = ex;
  write_minidump(snap, path, options);

  auto e = testing::read_dump(path).exceptions().at(0);
  EXPECT_EQ(e.code, static_cast<uint32_t>(SIGBUS));
  EXPECT_EQ(e.address, t.regs.rip + 2) << "the address defaults to the context's rip";
  ASSERT_TRUE(e.context.has_value());
  EXPECT_EQ(e.context->rax, 0x1234u);
  EXPECT_EQ(e.context->rip, t.regs.rip + 2);
}

TEST_F(ExceptionStream, BadArgumentsFailBeforeAnyFileIsWritten) {
  auto with = [](DumpException ex) {
    DumpOptions options;
    options.exception = ex;
    return options;
  };
  uint32_t tid = tid_of(*target, "nanosleep");
  expect_invalid(snap, path, with({999999999u, SIGSEGV, 0, 0, {}}), "is not a thread of process");
  expect_invalid(snap, path, with({tid, 0, 0, 0, {}}), "is not a signal number");
  expect_invalid(snap, path, with({tid, 65, 0, 0, {}}), "is not a signal number");
  expect_invalid(snap, path, with({tid, SIGSEGV, 0, 0, std::vector<uint8_t>(100)}), "1232-byte AMD64 CONTEXT");
}

TEST(UserStreams, WrittenByteForByteAndReadersStillLoadTheDump) {
  auto target = TargetProcess::spawn({"--threads", "4"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = testing::temp_dump_path("user_streams");
  DumpOptions options;
  // Full memory info: minidump_dump reports a dump without a MemoryInfoList as an error.
  options.type = dump::kWithFullMemoryInfo;
  std::string comment = "written by the user-stream test";
  options.user_streams.push_back({0xA /* CommentStreamA */, std::vector<uint8_t>(comment.begin(), comment.end() + 1)});
  std::vector<uint8_t> blob(70000);
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<uint8_t>(i * 7);
  options.user_streams.push_back({0x10001, blob});
  options.user_streams.push_back({0x10002, {}});
  write_minidump(snap, path, options);

  auto d = testing::read_dump(path);
  EXPECT_EQ(d.text_stream(0xA).value_or(""), comment);
  auto raw = d.stream(0x10001);
  ASSERT_TRUE(raw.has_value());
  EXPECT_TRUE(std::equal(raw->begin(), raw->end(), blob.begin(), blob.end()));
  ASSERT_TRUE(d.stream(0x10002).has_value());
  EXPECT_EQ(d.stream(0x10002)->size(), 0u);

  auto lldb = testing::lldb_batch(path, {"thread list"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  auto dumped = testing::run_minidump_dump(path);
  EXPECT_TRUE(dumped.ok) << dumped.raw << dumped.err;
  EXPECT_EQ(dumped.thread_ids.size(), snap.threads().size());
  EXPECT_EQ(dumped.streams.count(0x10001), 1u) << dumped.raw;
  std::filesystem::remove(path);
}

TEST(UserStreams, TypesThatWouldClashAreRefused) {
  auto target = TargetProcess::spawn({"--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = testing::temp_dump_path("user_streams_refused");
  auto with = [](std::vector<UserStream> streams) {
    DumpOptions options;
    options.user_streams = std::move(streams);
    return options;
  };
  expect_invalid(snap, path, with({{0, {1}}}), "UnusedStream");
  expect_invalid(snap, path, with({{3, {1}}}), "(ThreadList) is a stream snapdump writes itself");
  expect_invalid(snap, path, with({{0x47670009, {1}}}), "(LinuxMaps)");
  expect_invalid(snap, path, with({{0x10001, {1}}, {0x10001, {2}}}), "two user streams of type 0x10001");
}

}  // namespace
}  // namespace snapdump
