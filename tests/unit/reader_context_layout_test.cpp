// Thread contexts in the layouts other writers use (reader.h's ContextLayout), built byte by
// byte: LLDB 16's 720-byte MinidumpContext_x86_64 and the 736-byte one of later LLDB, the
// CONTEXT of Windows, Breakpad and Crashpad with and without the CPU type in its flags, the
// extended CONTEXT, and sizes or CPUs this reader does not know, which are no problem of the
// file. The dumps are fuzzer seeds too (SNAPDUMP_FUZZ_SEEDS).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/reader.h"
#include "unit/dump_bytes.h"

namespace snapdump::reader {
namespace {

constexpr uint64_t kRip = 0x7f0011223344, kRsp = 0x7ffd00001000, kRbx = 0x1111;

// A dump whose SystemInfo says `architecture` (none when 0xFFFF is not wanted: see below) and
// whose one thread has `context` as its context bytes.
std::vector<uint8_t> dump_with_context(const std::vector<uint8_t>& context, uint16_t architecture = format::kArchitectureAmd64,
                                       bool system_info = true) {
  Builder b;
  const uint32_t ctx_rva = b.put_bytes(context.data(), context.size());
  if (system_info) {
    b.stream(StreamType::SystemInfo, [&] {
      format::SystemInfo si{};
      si.processor_architecture = architecture;
      b.put(si);
    });
  }
  b.stream(StreamType::ThreadList, [&] {
    b.put(uint32_t{1});
    format::Thread t{};
    t.thread_id = 7;
    t.thread_context = {static_cast<uint32_t>(context.size()), ctx_rva};
    b.put(t);
  });
  return b.finish();
}

format::ContextAmd64 context_struct(uint32_t flags) {
  format::ContextAmd64 c{};
  c.context_flags = flags;
  c.rip = kRip;
  c.rsp = kRsp;
  c.rbx = kRbx;
  c.flt_save[24] = 0x80;  // MxCsr's low byte in the FXSAVE image
  c.vector_register[0].low = 0x5151;
  c.last_exception_from_rip = 0xabcd;
  return c;
}

std::vector<uint8_t> windows_context(uint32_t flags) {
  const format::ContextAmd64 c = context_struct(flags);
  std::vector<uint8_t> bytes(sizeof c);
  std::memcpy(bytes.data(), &c, sizeof c);
  return bytes;
}

// LLDB's layout: the CONTEXT up to rip, then VectorRegister onwards (no FltSave), then, for the
// later layout, fs_base and gs_base.
std::vector<uint8_t> lldb_context(uint32_t flags, bool with_bases) {
  constexpr size_t kFltSave = offsetof(format::ContextAmd64, flt_save);
  constexpr size_t kVector = offsetof(format::ContextAmd64, vector_register);
  constexpr size_t kSize = sizeof(format::ContextAmd64) - (kVector - kFltSave);
  const format::ContextAmd64 c = context_struct(flags);
  const auto* from = reinterpret_cast<const uint8_t*>(&c);
  std::vector<uint8_t> bytes(kSize + (with_bases ? 16 : 0), 0);
  std::memcpy(bytes.data(), from, kFltSave);
  std::memcpy(bytes.data() + kFltSave, from + kVector, sizeof c - kVector);
  if (with_bases) {
    const uint64_t fs_base = 0x7f00aaaa0000;
    std::memcpy(bytes.data() + kSize, &fs_base, sizeof fs_base);
  }
  return bytes;
}

// The dump (kept: its thread's context_bytes point into it) and its one thread. The dump is a
// fuzzer seed under `seed_name`.
struct Read {
  Minidump dump;
  ThreadView thread;
};

Read read_seeded(const std::string& seed_name, const std::vector<uint8_t>& bytes) {
  seed(seed_name, bytes);
  Minidump dump = Minidump::from_bytes(bytes);
  EXPECT_TRUE(dump.problems().empty()) << (dump.problems().empty() ? "" : dump.problems()[0]);
  auto threads = dump.threads();
  EXPECT_EQ(threads.size(), 1u);
  return {dump, threads.empty() ? ThreadView{} : threads[0]};
}

TEST(ReaderContextLayouts, ReadsLldb16ContextsOf720Bytes) {
  // What LLDB 16's `process save-core --plugin-name=minidump` writes: Control|Integer|Segments.
  const ThreadView t = read_seeded("context_lldb", dump_with_context(lldb_context(0x00100007, false))).thread;
  EXPECT_EQ(t.context_layout, ContextLayout::lldb);
  EXPECT_EQ(t.context_bytes.size(), 720u);
  ASSERT_TRUE(t.context);
  EXPECT_EQ(t.context->rip, kRip);
  EXPECT_EQ(t.context->rsp, kRsp);
  EXPECT_EQ(t.context->rbx, kRbx);
  EXPECT_EQ(t.context->context_flags, 0x00100007u);
  EXPECT_EQ(t.context->vector_register[0].low, 0x5151u);
  EXPECT_EQ(t.context->last_exception_from_rip, 0xabcdu);
  EXPECT_EQ(t.context->flt_save[24], 0) << "LLDB's layout has no FltSave";
  EXPECT_EQ(describe_context(t.context_layout, t.context_bytes.size()), "lldb, 720 bytes");
}

TEST(ReaderContextLayouts, ReadsLaterLldbContextsWithSegmentBases) {
  // 0x80000000 is LLDB's own "fs_base and gs_base follow"; FloatingPoint cannot be true of a
  // layout without FltSave. Neither stays in the decoded flags.
  const ThreadView t = read_seeded("context_lldb_bases", dump_with_context(lldb_context(0x8010000F, true))).thread;
  EXPECT_EQ(t.context_layout, ContextLayout::lldb_with_bases);
  EXPECT_EQ(t.context_bytes.size(), 736u);
  ASSERT_TRUE(t.context);
  EXPECT_EQ(t.context->rip, kRip);
  EXPECT_EQ(t.context->context_flags, 0x00100007u);
}

TEST(ReaderContextLayouts, ReadsTheWindowsBreakpadAndCrashpadContext) {
  const ThreadView t = read_seeded("context_amd64", dump_with_context(windows_context(format::context_flags::kAll))).thread;
  EXPECT_EQ(t.context_layout, ContextLayout::amd64);
  ASSERT_TRUE(t.context);
  EXPECT_EQ(t.context->rip, kRip);
  EXPECT_EQ(t.context->flt_save[24], 0x80);
  EXPECT_EQ(t.context->context_flags, format::context_flags::kAll);
}

// Breakpad's processor fills in the CPU type from SystemInfo when a writer left it out of
// context_flags; so does this reader.
TEST(ReaderContextLayouts, AddsTheCpuTypeOlderBreakpadWritersLeftOut) {
  const ThreadView t = read_seeded("context_no_cpu_type", dump_with_context(windows_context(0x0000000F))).thread;
  EXPECT_EQ(t.context_layout, ContextLayout::amd64);
  ASSERT_TRUE(t.context);
  EXPECT_EQ(t.context->context_flags, 0x0010000Fu);
  EXPECT_EQ(t.context->rsp, kRsp);
}

// Crashpad's extended context with CET state, as its MinidumpContextAMD64Writer lays it out:
// CONTEXT (flags All | XState), CONTEXT_EX right after it, the compacted XSAVE header just
// before 0x550 and the 16-byte CET_U component at 0x550: 1376 bytes.
TEST(ReaderContextLayouts, ReadsCrashpadsExtendedContextWithCetState) {
  constexpr size_t kXSaveAt = 0x550, kHeader = 64, kCetU = 16;
  std::vector<uint8_t> context = windows_context(format::context_flags::kAll | format::context_flags::kXState);
  context.resize(kXSaveAt + kCetU, 0);
  const int32_t to_context = -static_cast<int32_t>(sizeof(format::ContextAmd64));
  const format::ContextEx ex{{to_context, static_cast<uint32_t>(context.size())},
                             {to_context, static_cast<uint32_t>(sizeof(format::ContextAmd64))},
                             {static_cast<int32_t>(kXSaveAt - kHeader - sizeof(format::ContextAmd64)),
                              static_cast<uint32_t>(kHeader + kCetU)}};
  std::memcpy(context.data() + sizeof(format::ContextAmd64), &ex, sizeof ex);
  const uint64_t cet_u_mask = uint64_t{1} << 11;
  std::memcpy(context.data() + kXSaveAt - kHeader, &cet_u_mask, sizeof cet_u_mask);
  const Read read = read_seeded("context_crashpad_cet", dump_with_context(context));
  const ThreadView& t = read.thread;
  EXPECT_EQ(t.context_layout, ContextLayout::amd64_extended);
  ASSERT_TRUE(t.context);
  EXPECT_EQ(t.context->rip, kRip);
  EXPECT_EQ(t.context->context_flags, format::context_flags::kAll | format::context_flags::kXState);
  EXPECT_EQ(t.context_bytes.size(), 1376u);
}

// Sizes and CPUs this reader does not decode: the thread is listed, without registers, with
// its layout unknown, and the dump has no problem.
TEST(ReaderContextLayouts, UnknownLayoutsAreReportedAsUnknownNotAsCorruption) {
  struct Case {
    const char* name;
    std::vector<uint8_t> context;
    uint16_t architecture;
  };
  std::vector<uint8_t> x86_sized(716, 0);  // MDRawContextX86's size
  const uint32_t x86_flags = 0x0001003F;
  std::memcpy(x86_sized.data(), &x86_flags, 4);
  std::vector<uint8_t> lldb_without_cpu = lldb_context(0x00000007, false);
  const Case cases[] = {
      {"x86", x86_sized, format::kArchitectureAmd64},
      {"lldb_sized_without_amd64_flag", lldb_without_cpu, format::kArchitectureAmd64},
      {"arm64_cpu_flag", windows_context(0x0040000F), format::kArchitectureAmd64},
      {"arm64_dump", windows_context(format::context_flags::kAll), 12},
      {"between", std::vector<uint8_t>(1000, 0), format::kArchitectureAmd64},
  };
  for (const Case& c : cases) {
    const ThreadView t =
        read_seeded(std::string("context_unknown_") + c.name, dump_with_context(c.context, c.architecture)).thread;
    EXPECT_EQ(t.context_layout, ContextLayout::unknown) << c.name;
    EXPECT_FALSE(t.context) << c.name;
    EXPECT_EQ(t.context_bytes.size(), c.context.size()) << c.name;
  }
}

// Without a SystemInfo stream the dump is taken for AMD64, as before.
TEST(ReaderContextLayouts, WithoutSystemInfoAmd64IsAssumed) {
  const ThreadView t =
      read_seeded("context_no_system_info", dump_with_context(lldb_context(0x00100007, false), 0, false)).thread;
  EXPECT_EQ(t.context_layout, ContextLayout::lldb);
  ASSERT_TRUE(t.context);
  EXPECT_EQ(t.context->rip, kRip);
}

TEST(ReaderContextLayouts, AContextOutsideTheFileIsStillAProblem) {
  auto bytes = dump_with_context(lldb_context(0x00100007, false));
  // The thread's context RVA, moved past the end of the file.
  Minidump good = Minidump::from_bytes(bytes);
  ASSERT_EQ(good.streams().size(), 2u);
  const size_t thread = good.streams()[1].rva + 4;
  patch(bytes, thread + offsetof(format::Thread, thread_context) + 4, uint32_t{0x7FFFFFF0});
  auto dump = Minidump::from_bytes(bytes);
  ASSERT_EQ(dump.problems().size(), 1u);
  EXPECT_NE(dump.problems()[0].find("context"), std::string::npos) << dump.problems()[0];
  EXPECT_EQ(dump.threads()[0].context_layout, ContextLayout::none);
}

TEST(ReaderContextLayouts, ExceptionContextsUseTheSameLayouts) {
  Builder b;
  std::vector<uint8_t> context = lldb_context(0x00100007, false);
  const uint32_t ctx_rva = b.put_bytes(context.data(), context.size());
  b.stream(StreamType::Exception, [&] {
    format::ExceptionStream e{};
    e.thread_id = 7;
    e.exception_record.exception_code = 11;
    e.thread_context = {static_cast<uint32_t>(context.size()), ctx_rva};
    b.put(e);
  });
  auto bytes = b.finish();
  seed("context_lldb_exception", bytes);
  auto dump = Minidump::from_bytes(bytes);
  EXPECT_TRUE(dump.problems().empty());
  ASSERT_EQ(dump.exceptions().size(), 1u);
  EXPECT_EQ(dump.exceptions()[0].context_layout, ContextLayout::lldb);
  ASSERT_TRUE(dump.exceptions()[0].context);
  EXPECT_EQ(dump.exceptions()[0].context->rip, kRip);
}

}  // namespace
}  // namespace snapdump::reader
