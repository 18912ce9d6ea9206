// The Windows-compatible headers seen from C++: the SDK's numeric values, and the same sizes
// as the C view of headers_c.c.
#include <windows.h>
#include <Windows.h>
#include <processsnapshot.h>
#include <ProcessSnapshot.h>
#include <minidumpapiset.h>
#include <minidumpApiSet.h>
#include <dbghelp.h>
#include <DbgHelp.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "snapdump/dump_type.h"
#include "snapdump/reader.h"
#include "support/read_dump.h"
#include "support/target_process.h"
#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/snapshot_types.h"
#include "win/headers_c.h"

namespace {

TEST(WinHeaders, CAndCppAgreeOnLayouts) {
#define SAME(type) EXPECT_EQ(snapdump_win_c_sizeof(#type), sizeof(type)) << #type
  SAME(CONTEXT);
  SAME(PSS_PROCESS_INFORMATION);
  SAME(PSS_HANDLE_ENTRY);
  SAME(PSS_THREAD_ENTRY);
  SAME(PSS_VA_SPACE_ENTRY);
  SAME(PSS_AUXILIARY_PAGE_ENTRY);
  SAME(MINIDUMP_CALLBACK_INPUT);
  SAME(MINIDUMP_CALLBACK_OUTPUT);
  SAME(MINIDUMP_THREAD_CALLBACK);
  SAME(MINIDUMP_MODULE_CALLBACK);
  SAME(MINIDUMP_EXCEPTION_INFORMATION);
  SAME(MINIDUMP_MISC_INFO_5);
  SAME(MINIDUMP_SYSTEM_INFO);
  // The enums: 4 bytes in C, as with their fixed underlying type in C++.
  SAME(PSS_CAPTURE_FLAGS);
  SAME(PSS_HANDLE_FLAGS);
  SAME(PSS_OBJECT_TYPE);
  SAME(PSS_QUERY_INFORMATION_CLASS);
  SAME(PSS_WALK_INFORMATION_CLASS);
  SAME(PSS_DUPLICATE_FLAGS);
  SAME(PSS_PROCESS_FLAGS);
  SAME(PSS_THREAD_FLAGS);
  SAME(MINIDUMP_TYPE);
  SAME(MINIDUMP_CALLBACK_TYPE);
  SAME(MINIDUMP_STREAM_TYPE);
  SAME(MINIDUMP_HANDLE_OBJECT_INFORMATION_TYPE);
#undef SAME
}

TEST(WinHeaders, ValuesMatchTheEngine) {
  namespace cap = snapdump::capture;
  EXPECT_EQ(PSS_CAPTURE_VA_CLONE, cap::kVaClone);
  EXPECT_EQ(PSS_CAPTURE_HANDLES, cap::kHandles);
  EXPECT_EQ(PSS_CAPTURE_HANDLE_TRACE, cap::kHandleTrace);
  EXPECT_EQ(PSS_CAPTURE_THREAD_CONTEXT_EXTENDED, cap::kThreadContextExtended);
  EXPECT_EQ(PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION, cap::kVaSpaceSectionInformation);
  EXPECT_EQ(PSS_CAPTURE_IPT_TRACE, cap::kIptTrace);
  EXPECT_EQ(PSS_CREATE_BREAKAWAY_OPTIONAL, cap::kCreateBreakawayOptional);
  EXPECT_EQ(PSS_CREATE_USE_VM_ALLOCATIONS, cap::kCreateUseVmAllocations);
  EXPECT_EQ(PSS_CREATE_RELEASE_SECTION, cap::kCreateReleaseSection);
  EXPECT_EQ(static_cast<uint32_t>(CONTEXT_ALL), snapdump::context::kAll);
  EXPECT_EQ(static_cast<uint32_t>(CONTEXT_XSTATE), snapdump::context::kXState);
  EXPECT_EQ(MiniDumpWithFullMemory, snapdump::dump::kWithFullMemory);
  EXPECT_EQ(MiniDumpFilterWriteCombinedMemory, snapdump::dump::kFilterWriteCombinedMemory);
  EXPECT_EQ(MiniDumpValidTypeFlags, snapdump::dump::kValidTypeFlags);
  EXPECT_EQ(IsProcessSnapshotCallback, 16);
  EXPECT_EQ(VmPostReadCallback, 20);
  EXPECT_EQ(ThreadNamesStream, 24);
  EXPECT_EQ(MINIDUMP_SIGNATURE, snapdump::format::kSignature);
  EXPECT_EQ(ThreadWriteThreadInfo, 0x40);
  EXPECT_EQ(ModuleWriteCodeSegs, 0x40);
  EXPECT_EQ(snapdump_win_c_values(), 0x80000005ull + 16);
  // C++ combines PSS flags and keeps the enum type, as the SDK's flag operators allow.
  PSS_CAPTURE_FLAGS flags = PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT;
  EXPECT_EQ(static_cast<uint32_t>(flags), 0x180u);
}

TEST(WinHeaders, FormatStructsMatchTheEngine) {
  EXPECT_EQ(sizeof(MINIDUMP_THREAD), sizeof(snapdump::format::Thread));
  EXPECT_EQ(sizeof(MINIDUMP_MODULE), sizeof(snapdump::format::Module));
  EXPECT_EQ(sizeof(MINIDUMP_MISC_INFO_5), sizeof(snapdump::format::MiscInfo5));
  EXPECT_EQ(sizeof(CONTEXT), sizeof(snapdump::format::ContextAmd64));
  EXPECT_EQ(offsetof(CONTEXT, Xmm0), offsetof(snapdump::format::ContextAmd64, flt_save) + 160);
  EXPECT_EQ(HRESULT_FROM_WIN32(ERROR_CANCELLED), static_cast<HRESULT>(0x800704C7));
  EXPECT_EQ(sizeof(DWORD), 4u);
  EXPECT_EQ(sizeof(WCHAR), sizeof(wchar_t));
}

TEST(WinHeaders, CrashHandlerStyleCodeInCDumpsThisProcess) {
  std::string path = snapdump::testing::temp_dump_path("win-crash-handler");
  EXCEPTION_RECORD record{};
  record.ExceptionCode = 11;
  CONTEXT context{};
  context.ContextFlags = CONTEXT_CONTROL;
  context.Rip = 0x4242;
  EXCEPTION_POINTERS pointers{&record, &context};
  ASSERT_EQ(snapdump_win_c_crash_handler(path.c_str(), &pointers), 0);
  auto d = snapdump::testing::read_dump(path);
  EXPECT_FALSE(d.modules().empty());
  EXPECT_FALSE(d.handles().empty());
  ASSERT_EQ(d.exceptions().size(), 1u);
  EXPECT_EQ(d.exceptions()[0].code, 11u);
  ASSERT_TRUE(d.exceptions()[0].context.has_value());
  EXPECT_EQ(d.exceptions()[0].context->rip, 0x4242u);
  // MiniDumpWithUnloadedModules: the list is there, and empty (Linux remembers none).
  EXPECT_TRUE(d.stream(0xE /* UnloadedModuleListStream */).has_value());
  std::filesystem::remove(path);
}

}  // namespace
