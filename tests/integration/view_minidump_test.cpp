// The minidump writer over a ProcessView (writer/view_minidump/): what `snapdump convert` uses to
// turn an ELF core into a minidump. Fed here with the two other views, a live capture and a
// minidump read back, and read with snapdump's reader (with the memory-map rule every snapdump
// dump keeps), Breakpad's minidump_stackwalk and minidump_dump, and LLDB.
#include <signal.h>
#include <sys/mman.h>

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "snapdump/core.h"
#include "snapdump/format/constants.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/read_dump.h"
#include "support/run_cli.h"
#include "support/target_process.h"
#include "support/temp_dir.h"
#include "view/minidump_view.h"
#include "view/snapshot_view.h"
#include "writer/output.h"
#include "writer/view_minidump/view_minidump_writer.h"

namespace snapdump {
namespace {

using testing::TargetProcess;
using testing::TempDir;

writer::view_minidump::ViewMinidumpResult write_view(const view::ProcessView& v, const std::string& path,
                                                      const writer::view_minidump::ViewMinidumpOptions& options = {}) {
  DumpOutput output = DumpOutput::to_path(path);
  DumpOutput::Impl& impl = output.impl();
  writer::Steering steering(nullptr);
  return writer::view_minidump::write_minidump(v, options, steering, {false, [&impl] { return impl.open_sink(); }});
}

uint64_t heap_of(const TargetProcess& target) {
  return std::stoull(target.report()["heap"]["addr"].get<std::string>(), nullptr, 0);
}

TEST(ViewMinidump, ALiveCaptureThroughTheViewIsADumpEveryReaderTakes) {
  auto target = TargetProcess::spawn({"--heap-mib", "2", "--threads", "3"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for_core() | capture::kVaClone);
  view::SnapshotView v(snap);
  TempDir dir("view-minidump-live");
  std::string path = dir / "live.dmp";
  view::Signal signal{target->pid(), SIGABRT, 0, 0, 0};
  writer::view_minidump::ViewMinidumpOptions options;
  options.signal = signal;
  auto result = write_view(v, path, options);
  EXPECT_EQ(result.threads, v.threads().size());
  EXPECT_GT(result.memory_bytes, uint64_t{2} << 20);

  reader::Minidump dump = testing::read_dump(path);
  EXPECT_TRUE(dump.problems().empty()) << dump.problems().front();
  std::set<uint32_t> tids, expected;
  for (const auto& t : dump.threads()) {
    tids.insert(t.tid);
    ASSERT_TRUE(t.context.has_value()) << t.tid;
    EXPECT_FALSE(t.stack.empty()) << "thread " << t.tid << " has no stack bytes";
  }
  for (const ThreadEntry& t : snap.threads()) expected.insert(static_cast<uint32_t>(t.tid));
  EXPECT_EQ(tids, expected);
  for (const ThreadEntry& t : snap.threads()) {
    for (const auto& d : dump.threads()) {
      if (d.tid != static_cast<uint32_t>(t.tid)) continue;
      EXPECT_EQ(d.context->rip, t.regs.rip);
      EXPECT_EQ(d.context->rsp, t.regs.rsp);
      EXPECT_EQ(d.teb, t.regs.fs_base);
    }
  }
  uint64_t word = 0;
  ASSERT_EQ(dump.read_memory(heap_of(*target) + 4096, {reinterpret_cast<uint8_t*>(&word), 8}), 8u);
  EXPECT_EQ(word, testing::expected_heap_word(4096));
  bool found_target = false;
  for (const auto& m : dump.modules()) {
    if (m.name != testing::target_path()) continue;
    found_target = true;
    EXPECT_FALSE(m.build_id.empty());
  }
  EXPECT_TRUE(found_target) << "the target's own module is missing";
  ASSERT_EQ(dump.exceptions().size(), 1u);
  EXPECT_EQ(dump.exceptions()[0].code, static_cast<uint32_t>(SIGABRT));
  EXPECT_EQ(dump.exceptions()[0].tid, static_cast<uint32_t>(target->pid()));
  ASSERT_TRUE(dump.text_stream(static_cast<uint32_t>(format::StreamType::LinuxMaps)).has_value());

  auto stackwalk = testing::run_minidump_stackwalk(path);
  EXPECT_TRUE(stackwalk.ok) << stackwalk.err;
  EXPECT_EQ(stackwalk.os, "Linux");
  EXPECT_EQ(stackwalk.cpu, "amd64");
  EXPECT_EQ(stackwalk.crash_reason, "SIGABRT");
  // Breakpad walks the signalled thread from its context through its stack bytes into the
  // target's own code (no symbols: "module + offset" frames).
  std::string exe = testing::target_path().substr(testing::target_path().rfind('/') + 1);
  const auto& frames = stackwalk.thread_frames[stackwalk.crashed_thread];
  EXPECT_GT(frames.size(), 1u);
  EXPECT_TRUE(std::any_of(frames.begin(), frames.end(), [&](const std::string& f) { return f.find(exe) != std::string::npos; }))
      << stackwalk.raw;
  auto md = testing::run_minidump_dump(path);
  EXPECT_TRUE(md.ok) << md.err;
  EXPECT_EQ(md.thread_ids.size(), expected.size());
  auto lldb = testing::lldb_batch(path, {"thread list"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.err;
  EXPECT_NE(lldb.out.find("tid = " + std::to_string(target->pid())), std::string::npos) << lldb.out;
}

// A minidump read back and written again: what the first held, the second holds, byte for byte
// where the memory is concerned; a range the first did not hold is absent, not zeros.
TEST(ViewMinidump, AMinidumpThroughTheViewKeepsExactlyItsMemory) {
  auto target = TargetProcess::spawn({"--heap-mib", "1"});
  TempDir dir("view-minidump-again");
  ASSERT_EQ(testing::run_cli({"dump", std::to_string(target->pid()), "-o", dir / "small.dmp"}).exit_code, 0);
  reader::Minidump first = testing::read_dump(dir / "small.dmp");
  view::MinidumpView v(first);
  write_view(v, dir / "again.dmp");
  reader::Minidump second = testing::read_dump(dir / "again.dmp");
  EXPECT_TRUE(second.problems().empty()) << second.problems().front();
  for (const auto& r : first.memory()) {
    std::vector<uint8_t> b(r.bytes.size());
    ASSERT_EQ(second.read_memory(r.address, b), b.size()) << std::hex << r.address;
    EXPECT_TRUE(std::equal(b.begin(), b.end(), r.bytes.begin())) << std::hex << r.address;
  }
  // The heap's middle was never in the small dump: it must not appear as zeros.
  uint8_t byte = 0;
  EXPECT_EQ(second.read_memory(heap_of(*target) + (512 << 10), {&byte, 1}), 0u);
  EXPECT_EQ(second.threads().size(), first.threads().size());
  EXPECT_EQ(second.modules().size(), first.modules().size());
}

}  // namespace
}  // namespace snapdump
