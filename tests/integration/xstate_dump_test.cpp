// MiniDumpWithAvxXStateContext: contexts in the CONTEXT_EX form with the XSAVE area, and
// MiscInfo's XStateData. The AVX thread of the target holds known values in YMM0-3; the dump
// must carry them, and LLDB and minidump_stackwalk must still read every thread.
#include <algorithm>
#include <cstring>
#include <filesystem>

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

class XStateDump : public ::testing::Test {
 protected:
  void SetUp() override {
    target = TargetProcess::spawn({"--avx", "--threads", "3"});
    ASSERT_TRUE(target->report()["avx"].value("enabled", false)) << "this suite needs a CPU with AVX";
    path = testing::temp_dump_path(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { std::filesystem::remove(path); }

  reader::Minidump dump(DumpType type) {
    Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(type));
    threads = snap.threads().size();
    DumpOptions options;
    options.type = type;
    write_minidump(snap, path, options);
    return testing::read_dump(path);
  }

  std::unique_ptr<TargetProcess> target;
  std::string path;
  size_t threads = 0;
};

const reader::ThreadView& avx_thread(const std::vector<reader::ThreadView>& threads) {
  auto it = std::find_if(threads.begin(), threads.end(), [](const auto& t) { return t.name == "sd-avx"; });
  if (it == threads.end()) throw std::runtime_error("no sd-avx thread in the dump");
  return *it;
}

TEST_F(XStateDump, YmmRegistersAreInTheContextAndMiscInfoSaysWhere) {
  auto d = dump(dump::kWithAvxXStateContext);
  auto misc = d.misc_info();
  ASSERT_TRUE(misc.has_value());
  ASSERT_TRUE(misc->xstate_enabled_features.has_value());
  EXPECT_TRUE(*misc->xstate_enabled_features & 0x7) << "x87, SSE and AVX are enabled on every AVX machine";
  EXPECT_EQ(misc->xstate_features[2].size, 256u) << "AVX: 16 upper halves of 16 bytes";
  EXPECT_EQ(misc->xstate_features[2].offset, 576u);

  auto threads = d.threads();
  ASSERT_EQ(threads.size(), this->threads);
  for (const auto& t : threads) {
    ASSERT_TRUE(t.context.has_value()) << t.tid;
    EXPECT_EQ(t.context->context_flags & format::context_flags::kXState, format::context_flags::kXState) << t.tid;
    EXPECT_EQ(t.context_bytes.size(), misc->xstate_context_size) << t.tid;
  }
  const auto& avx = avx_thread(threads);
  auto upper = reader::xstate_feature(avx.context_bytes, *misc, 2);
  ASSERT_TRUE(upper.has_value());
  ASSERT_EQ(upper->size(), 256u);
  for (int k = 0; k < 4; ++k) {
    for (int i = 0; i < 32; ++i) {
      uint8_t expected = static_cast<uint8_t>((k * 32 + i) ^ 0x5A);
      // The low half of YMM k is XMM k in CONTEXT.FltSave; the high half is in the AVX feature.
      uint8_t got = i < 16 ? avx.context->flt_save[160 + 16 * k + i] : (*upper)[16 * k + (i - 16)];
      EXPECT_EQ(got, expected) << "ymm" << k << " byte " << i;
    }
  }
}

TEST_F(XStateDump, WithoutTheFlagContextsArePlain) {
  auto d = dump(dump::kNormal);
  for (const auto& t : d.threads()) {
    EXPECT_EQ(t.context_bytes.size(), sizeof(format::ContextAmd64)) << t.tid;
    EXPECT_EQ(t.context->context_flags & 0x40u, 0u) << t.tid;
  }
  EXPECT_FALSE(d.misc_info()->xstate_enabled_features.has_value());
}

TEST_F(XStateDump, LldbAndBreakpadReadEveryThread) {
  dump(dump::kWithAvxXStateContext);
  auto lldb = testing::lldb_batch(path, {"thread list", "bt all"});
  ASSERT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  auto lldb_threads = testing::parse_lldb_backtraces(lldb.out);
  EXPECT_EQ(lldb_threads.size(), threads) << lldb.out;
  for (const auto& rt : target->report()["threads"]) {
    auto it = std::find_if(lldb_threads.begin(), lldb_threads.end(),
                           [&](const auto& t) { return t.tid == rt["tid"].get<uint64_t>(); });
    ASSERT_NE(it, lldb_threads.end()) << lldb.out;
    std::string fn = rt["function"].get<std::string>();
    EXPECT_TRUE(std::any_of(it->frames.begin(), it->frames.end(),
                            [&](const std::string& f) { return f.find(fn) != std::string::npos; }))
        << fn << "\n" << lldb.out;
  }
  auto sw = testing::run_minidump_stackwalk(path);
  ASSERT_TRUE(sw.ok) << sw.raw << sw.err;
  EXPECT_EQ(sw.thread_frames.size(), threads) << sw.raw << sw.err;
}

}  // namespace
}  // namespace snapdump
