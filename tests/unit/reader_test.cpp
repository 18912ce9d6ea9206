// The minidump reader against dumps built byte by byte here (so the tests do not depend on the
// writer agreeing with the reader), then against every kind of corruption the reader promises
// to survive. With SNAPDUMP_FUZZ_SEEDS set, the dumps built here are also written there as the
// fuzzer's seed corpus.
#include <string_view>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/reader.h"
#include "unit/dump_bytes.h"

namespace snapdump::reader {
namespace {

using format::StreamType;

constexpr uint32_t kTid = 1234;
constexpr uint64_t kStackStart = 0x7ffd0000;
constexpr uint64_t kRip = 0x401000;
const std::vector<uint8_t> kBuildId = {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
const std::string kMaps = "00400000-00401000 r-xp 00000000 08:01 42 /usr/bin/target\n";
const std::string kCmdLine{"/usr/bin/target\0--flag\0", 23};

// Where the corruption tests poke.
struct Offsets {
  size_t module_name_rva = 0, thread_list = 0, memory64 = 0, memory_info = 0, handles = 0,
         first_object_info = 0, second_object_info = 0;
};

std::vector<uint8_t> full_dump(Offsets* where = nullptr) {
  Offsets off;
  Builder b;
  std::vector<uint8_t> stack(256);
  for (size_t i = 0; i < stack.size(); ++i) stack[i] = static_cast<uint8_t>(i);
  const uint32_t stack_rva = b.put_bytes(stack.data(), stack.size());
  format::ContextAmd64 ctx{};
  ctx.context_flags = format::context_flags::kFull;
  ctx.rip = kRip;
  ctx.rsp = kStackStart + 0x10;
  const uint32_t ctx_rva = b.put(ctx);
  const uint32_t csd_rva = b.put_string(u"Linux 5.15 #1 SMP");
  b.stream(StreamType::SystemInfo, [&] {
    format::SystemInfo si{};
    si.processor_architecture = format::kArchitectureAmd64;
    si.number_of_processors = 4;
    si.major_version = 5;
    si.minor_version = 15;
    si.build_number = 7;
    si.platform_id = format::kPlatformLinux;
    si.csd_version_rva = csd_rva;
    std::memcpy(si.cpu.vendor_id, "GenuineIntel", 12);
    b.put(si);
  });
  b.stream(StreamType::ThreadList, [&] {
    off.thread_list = b.here();
    b.put(uint32_t{1});
    format::Thread t{};
    t.thread_id = kTid;
    t.priority = 3;
    t.teb = 0x7f0000001000;
    t.stack = {kStackStart, {static_cast<uint32_t>(stack.size()), stack_rva}};
    t.thread_context = {sizeof(ctx), ctx_rva};
    b.put(t);
  });
  const uint32_t name_rva = b.put_string(u"/usr/bin/target");
  const uint32_t cv_rva = b.put(format::kCvSignatureElf);
  b.put_bytes(kBuildId.data(), kBuildId.size());
  b.stream(StreamType::ModuleList, [&] {
    b.put(uint32_t{1});
    format::Module m{};
    m.base_of_image = 0x400000;
    m.size_of_image = 0x1000;
    m.checksum = 0x1111;
    m.time_date_stamp = 0x2222;
    m.module_name_rva = name_rva;
    m.cv_record = {static_cast<uint32_t>(4 + kBuildId.size()), cv_rva};
    off.module_name_rva = b.here() + offsetof(format::Module, module_name_rva);
    b.put(m);
  });
  b.stream(StreamType::MemoryList, [&] {
    b.put(uint32_t{1});
    b.put(format::MemoryDescriptor{kStackStart, {static_cast<uint32_t>(stack.size()), stack_rva}});
  });
  b.stream(StreamType::MiscInfo, [&] {
    format::MiscInfo5 m{};
    m.size_of_info = format::kMiscInfo5Size;
    m.flags1 = format::misc::kProcessId | format::misc::kProcessTimes;
    m.process_id = 4321;
    m.process_create_time = 1700000000;
    m.process_user_time = 5;
    m.process_kernel_time = 6;
    m.xstate_data.size_of_info = sizeof(m.xstate_data);
    m.xstate_data.context_size = 0x988;
    m.xstate_data.enabled_features = 0x207;
    b.put(m);
  });
  const uint32_t thread_name_rva = b.put_string(u"worker\u00e9");
  b.stream(StreamType::ThreadNames, [&] {
    b.put(uint32_t{1});
    b.put(format::ThreadName{kTid, thread_name_rva});
  });
  b.stream(StreamType::ThreadInfoList, [&] {
    b.put(format::ThreadInfoListHeader{sizeof(format::ThreadInfoListHeader), sizeof(format::ThreadInfo), 1});
    format::ThreadInfo ti{};
    ti.thread_id = kTid;
    ti.start_address = 0x401500;
    b.put(ti);
  });
  b.stream(StreamType::MemoryInfoList, [&] {
    off.memory_info = b.here();
    b.put(format::MemoryInfoListHeader{sizeof(format::MemoryInfoListHeader), sizeof(format::MemoryInfo), 2});
    b.put(format::MemoryInfo{0x400000, 0x400000, format::page::kExecuteRead, 0, 0x1000,
                             format::mem::kCommit, format::page::kExecuteRead, format::mem::kImage, 0});
    b.put(format::MemoryInfo{0x20000, 0x20000, format::page::kReadWrite, 0, 0x180,
                             format::mem::kCommit, format::page::kReadWrite, format::mem::kPrivate, 0});
  });
  const uint32_t type_rva = b.put_string(u"File");
  const uint32_t object_rva = b.put_string(u"/tmp/x");
  off.second_object_info = b.here();
  const uint32_t info2_rva = b.put(format::HandleObjectInformation{0, 7, 4});
  b.put(uint32_t{0xabcd});
  off.first_object_info = b.here();
  const uint32_t info1_rva = b.put(format::HandleObjectInformation{info2_rva, 1, 2});
  b.put(uint16_t{0x55aa});
  b.stream(StreamType::HandleData, [&] {
    off.handles = b.here();
    b.put(format::HandleDataStreamHeader{sizeof(format::HandleDataStreamHeader),
                                         sizeof(format::HandleDescriptor2), 2, 0});
    b.put(format::HandleDescriptor2{3, type_rva, object_rva, 0, 0x2, 1, 1, info1_rva, 0});
    b.put(format::HandleDescriptor2{4, 0, 0, 0, 0x1, 1, 1, 0, 0});
  });
  b.stream(StreamType::LinuxMaps, [&] { b.put_bytes(kMaps.data(), kMaps.size()); });
  b.stream(StreamType::LinuxCmdLine, [&] { b.put_bytes(kCmdLine.data(), kCmdLine.size()); });
  b.stream(StreamType::Exception, [&] {
    format::ExceptionStream e{};
    e.thread_id = kTid;
    e.exception_record.exception_code = 11;
    e.exception_record.exception_address = kRip;
    e.exception_record.number_parameters = 2;
    e.exception_record.exception_information[0] = 1;
    e.exception_record.exception_information[1] = 0xdead;
    e.thread_context = {sizeof(ctx), ctx_rva};
    b.put(e);
  });
  // Memory64List last: its ranges lie back to back at the end of the file, as writers put them.
  std::vector<uint8_t> m64(0x180);
  for (size_t i = 0; i < m64.size(); ++i) m64[i] = static_cast<uint8_t>(0x80 + i);
  b.stream(StreamType::Memory64List, [&] {
    off.memory64 = b.here();
    const uint32_t base = b.here() + sizeof(format::Memory64ListHeader) + 2 * sizeof(format::MemoryDescriptor64);
    b.put(format::Memory64ListHeader{2, base});
    b.put(format::MemoryDescriptor64{0x20000, 0x100});
    b.put(format::MemoryDescriptor64{0x20100, 0x80});
  });
  b.put_bytes(m64.data(), m64.size());
  if (where) *where = off;
  return b.finish();
}

// Every accessor, as a user (or the fuzzer) would call them.
void touch_everything(const Minidump& dump) {
  (void)dump.header();
  for (const auto& s : dump.streams()) (void)dump.stream(s.type);
  (void)dump.system_info();
  (void)dump.misc_info();
  (void)dump.threads();
  (void)dump.modules();
  (void)dump.unloaded_modules();
  uint8_t buf[64];
  for (const auto& r : dump.memory()) {
    volatile uint8_t sum = 0;
    for (uint8_t byte : r.bytes) sum = sum + byte;
    (void)dump.read_memory(r.address, buf);
  }
  (void)dump.memory_info();
  (void)dump.handles();
  (void)dump.exceptions();
  for (auto t : {StreamType::LinuxMaps, StreamType::LinuxCmdLine, StreamType::CommentA}) {
    (void)dump.text_stream(static_cast<uint32_t>(t));
  }
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

bool mentions(const Minidump& dump, const std::string& text) {
  return joined(dump.problems()).find(text) != std::string::npos;
}


TEST(Reader, ParsesEveryStreamOfAValidDump) {
  auto bytes = full_dump();
  seed("full", bytes);
  auto dump = Minidump::from_bytes(bytes);
  EXPECT_TRUE(dump.problems().empty()) << joined(dump.problems());
  EXPECT_EQ(dump.header().signature, format::kSignature);
  EXPECT_EQ(dump.streams().size(), 13u);  // the 7 unused slots are not listed
  EXPECT_EQ(std::string_view(dump.streams()[0].name), "SystemInfo");

  auto si = dump.system_info();
  ASSERT_TRUE(si);
  EXPECT_EQ(si->architecture, format::kArchitectureAmd64);
  EXPECT_EQ(si->platform_id, format::kPlatformLinux);
  EXPECT_EQ(si->processors, 4);
  EXPECT_EQ(si->major, 5u);
  EXPECT_EQ(si->minor, 15u);
  EXPECT_EQ(si->build, 7u);
  EXPECT_EQ(si->csd_version, "Linux 5.15 #1 SMP");
  EXPECT_EQ(si->vendor, "GenuineIntel");

  auto threads = dump.threads();
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0].tid, kTid);
  EXPECT_EQ(threads[0].priority, 3u);
  EXPECT_EQ(threads[0].teb, 0x7f0000001000u);
  EXPECT_EQ(threads[0].stack_start, kStackStart);
  ASSERT_EQ(threads[0].stack.size(), 256u);
  EXPECT_EQ(threads[0].stack[17], 17);
  ASSERT_TRUE(threads[0].context);
  EXPECT_EQ(threads[0].context->rip, kRip);
  EXPECT_EQ(threads[0].context->context_flags, format::context_flags::kFull);
  EXPECT_EQ(threads[0].context_bytes.size(), sizeof(format::ContextAmd64));
  EXPECT_EQ(std::string_view(threads[0].name), "worker\xc3\xa9");
  ASSERT_TRUE(threads[0].info);
  EXPECT_EQ(threads[0].info->start_address, 0x401500u);

  auto modules = dump.modules();
  ASSERT_EQ(modules.size(), 1u);
  EXPECT_EQ(modules[0].base, 0x400000u);
  EXPECT_EQ(modules[0].size, 0x1000u);
  EXPECT_EQ(modules[0].checksum, 0x1111u);
  EXPECT_EQ(modules[0].time_date_stamp, 0x2222u);
  EXPECT_EQ(std::string_view(modules[0].name), "/usr/bin/target");
  EXPECT_EQ(modules[0].cv_signature, format::kCvSignatureElf);
  EXPECT_EQ(modules[0].build_id, kBuildId);
  EXPECT_TRUE(dump.unloaded_modules().empty());

  auto mi = dump.misc_info();
  ASSERT_TRUE(mi);
  EXPECT_EQ(mi->size_of_info, format::kMiscInfo5Size);
  EXPECT_EQ(mi->pid, 4321u);
  EXPECT_EQ(mi->create_time, 1700000000u);
  EXPECT_EQ(mi->user_time, 5u);
  EXPECT_EQ(mi->kernel_time, 6u);
  EXPECT_EQ(mi->xstate_enabled_features, 0x207u);
  EXPECT_EQ(mi->xstate_context_size, 0x988u);

  auto info = dump.memory_info();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[1].base, 0x20000u);
  EXPECT_EQ(info[1].size, 0x180u);
  EXPECT_EQ(info[1].protect, format::page::kReadWrite);
  EXPECT_EQ(info[0].type, format::mem::kImage);

  auto handles = dump.handles();
  ASSERT_EQ(handles.size(), 2u);
  EXPECT_EQ(handles[0].handle, 3u);
  EXPECT_EQ(std::string_view(handles[0].type_name), "File");
  EXPECT_EQ(handles[0].object_name, "/tmp/x");
  EXPECT_EQ(handles[0].granted_access, 2u);
  ASSERT_EQ(handles[0].object_info.size(), 2u);
  EXPECT_EQ(handles[0].object_info[0].first, 1u);
  EXPECT_EQ(handles[0].object_info[0].second, (std::vector<uint8_t>{0xaa, 0x55}));
  EXPECT_EQ(handles[0].object_info[1].first, 7u);
  EXPECT_EQ(handles[0].object_info[1].second, (std::vector<uint8_t>{0xcd, 0xab, 0, 0}));
  EXPECT_EQ(std::string_view(handles[1].type_name), "");
  EXPECT_TRUE(handles[1].object_info.empty());

  auto exceptions = dump.exceptions();
  ASSERT_EQ(exceptions.size(), 1u);
  EXPECT_EQ(exceptions[0].tid, kTid);
  EXPECT_EQ(exceptions[0].code, 11u);
  EXPECT_EQ(exceptions[0].parameters, (std::vector<uint64_t>{1, 0xdead}));
  ASSERT_TRUE(exceptions[0].context);
  EXPECT_EQ(exceptions[0].context->rip, kRip);

  EXPECT_EQ(dump.text_stream(static_cast<uint32_t>(StreamType::LinuxMaps)), kMaps);
  EXPECT_EQ(dump.text_stream(static_cast<uint32_t>(StreamType::LinuxCmdLine)), kCmdLine);
  EXPECT_FALSE(dump.text_stream(static_cast<uint32_t>(StreamType::LinuxEnviron)));
  EXPECT_FALSE(dump.text_stream(static_cast<uint32_t>(StreamType::ThreadList)));
}

TEST(Reader, MemoryIsSortedAndReadAcrossAdjacentRanges) {
  auto dump = Minidump::from_bytes(full_dump());
  auto memory = dump.memory();
  ASSERT_EQ(memory.size(), 3u);
  EXPECT_EQ(memory[0].address, 0x20000u);
  EXPECT_TRUE(memory[0].from_memory64);
  EXPECT_EQ(memory[1].address, 0x20100u);
  EXPECT_EQ(memory[2].address, kStackStart);
  EXPECT_FALSE(memory[2].from_memory64);
  EXPECT_EQ(memory[2].bytes.size(), 256u);

  std::vector<uint8_t> out(0x200, 0);
  // 0x20000..0x20180 is captured in two adjacent ranges; the gap after it stops the read.
  EXPECT_EQ(dump.read_memory(0x200f0, out), 0x90u);
  EXPECT_EQ(out[0], static_cast<uint8_t>(0x80 + 0xf0));
  EXPECT_EQ(out[0x10], static_cast<uint8_t>(0x80 + 0x100));
  EXPECT_EQ(dump.read_memory(0x1ffff, out), 0u);
  EXPECT_EQ(dump.read_memory(kStackStart + 250, std::span(out).first(4)), 4u);
  EXPECT_EQ(out[0], 250);
  EXPECT_EQ(dump.read_memory(UINT64_MAX, out), 0u);
}

// A full dump keeps each stack and instruction window in the MemoryList as well, inside the
// Memory64List range of its region (docs/minidump.md). An address past such a window, still in
// the Memory64List range, is captured: it once read as missing, because the last range starting
// at or below it was the window, which ends before it.
TEST(Reader, MemoryInsideALaterRangeOfTheOtherListIsReadThroughIt) {
  Builder b;
  std::vector<uint8_t> region(0x3000);
  for (size_t i = 0; i < region.size(); ++i) region[i] = static_cast<uint8_t>(i * 7 + i / 256);
  const uint32_t window_rva = b.put_bytes(region.data() + 0x1100, 0x200);
  b.stream(StreamType::MemoryList, [&] {
    b.put(uint32_t{1});
    b.put(format::MemoryDescriptor{0x41100, {0x200, window_rva}});
  });
  b.stream(StreamType::Memory64List, [&] {
    const uint32_t base = b.here() + sizeof(format::Memory64ListHeader) + sizeof(format::MemoryDescriptor64);
    b.put(format::Memory64ListHeader{1, base});
    b.put(format::MemoryDescriptor64{0x40000, region.size()});
  });
  b.put_bytes(region.data(), region.size());
  auto dump = Minidump::from_bytes(b.finish());
  EXPECT_TRUE(dump.problems().empty()) << joined(dump.problems());
  std::vector<uint8_t> out(0x100);
  // Past the window's end, before it, and across it into the rest of the region.
  EXPECT_EQ(dump.read_memory(0x42000, out), out.size());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), region.begin() + 0x2000));
  EXPECT_EQ(dump.read_memory(0x40800, out), out.size());
  EXPECT_TRUE(std::equal(out.begin(), out.end(), region.begin() + 0x800));
  std::vector<uint8_t> across(0x1000);
  EXPECT_EQ(dump.read_memory(0x41000, across), across.size());
  EXPECT_TRUE(std::equal(across.begin(), across.end(), region.begin() + 0x1000));
  EXPECT_EQ(dump.read_memory(0x42f80, out), 0x80u) << "the region ends at 0x43000";
}

TEST(Reader, OpensAFileAndReportsOpenFailures) {
  auto path = std::filesystem::temp_directory_path() / ("reader_test_" + std::to_string(getpid()) + ".dmp");
  auto bytes = full_dump();
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
  {
    auto dump = Minidump::open(path.string());
    EXPECT_EQ(std::string_view(dump.modules().at(0).name), "/usr/bin/target");
    EXPECT_EQ(dump.threads().at(0).stack.size(), 256u);
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc).close();
  try {
    Minidump::open(path.string());
    ADD_FAILURE() << "an empty file opened";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::corrupt_input);
    EXPECT_NE(std::string(e.what()).find("not a minidump"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
  try {
    Minidump::open(path.string());
    ADD_FAILURE() << "a missing file opened";
  } catch (const Error& e) {
    EXPECT_NE(e.code(), Errc::corrupt_input);
  }
}

TEST(Reader, RejectsEmptyInputAndWrongSignature) {
  EXPECT_THROW(Minidump::from_bytes({}), Error);
  auto bytes = full_dump();
  patch(bytes, 0, uint32_t{0x4D444D50});  // "PMDM"
  try {
    Minidump::from_bytes(bytes);
    ADD_FAILURE() << "a bad signature parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::corrupt_input);
    std::string msg = e.what();
    EXPECT_NE(msg.find("not a minidump"), std::string::npos) << msg;
    EXPECT_NE(msg.find("0x4d444d50"), std::string::npos) << msg;
  }
  try {
    Minidump::from_bytes({'E', 'L', 'F'});
    ADD_FAILURE() << "3 bytes parsed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::corrupt_input);
    EXPECT_NE(std::string(e.what()).find("not a minidump"), std::string::npos) << e.what();
  }
}

// Every prefix of a valid dump: never a crash, and once the header is whole, a problem for
// whatever the cut removed (every byte of the built dump is referenced by something).
TEST(Reader, SurvivesTruncationAtEveryOffset) {
  const auto bytes = full_dump();
  size_t parsed = 0;
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    try {
      auto dump = Minidump::from_bytes(prefix);
      touch_everything(dump);
      ++parsed;
      EXPECT_FALSE(dump.problems().empty()) << "truncated at " << n;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::corrupt_input) << "truncated at " << n;
      EXPECT_LT(n, sizeof(format::Header) + 20 * sizeof(format::Directory) + 1) << e.what();
    }
  }
  EXPECT_GT(parsed, bytes.size() / 2);
}

TEST(Reader, ReportsLocationsOutsideTheFile) {
  Offsets off;
  auto bytes = full_dump(&off);
  patch(bytes, off.module_name_rva, uint32_t{0xFFFFFFF0});
  // The thread's context RVA, then a directory entry pointing past the end.
  patch(bytes, off.thread_list + 4 + offsetof(format::Thread, thread_context) + 4, uint32_t{0x7FFFFFFF});
  patch(bytes, sizeof(format::Header) + 9 * sizeof(format::Directory) + 8, uint32_t{0xFFFFFF00});
  auto dump = Minidump::from_bytes(bytes);
  touch_everything(dump);
  EXPECT_TRUE(mentions(dump, "ModuleList: entry 0 name RVA 0xfffffff0 outside the file"))
      << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "tid 1234) context")) << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "directory entry 9 (LinuxMaps): 57 bytes at RVA 0xffffff00"))
      << joined(dump.problems());
  EXPECT_FALSE(dump.text_stream(static_cast<uint32_t>(StreamType::LinuxMaps)));
  EXPECT_EQ(dump.streams().size(), 13u);  // still listed, as the directory says
  ASSERT_EQ(dump.modules().size(), 1u);
  EXPECT_EQ(std::string_view(dump.modules()[0].name), "");
  ASSERT_EQ(dump.threads().size(), 1u);
  EXPECT_FALSE(dump.threads()[0].context);
  EXPECT_EQ(dump.threads()[0].stack.size(), 256u);
}

TEST(Reader, BoundsHugeCounts) {
  Offsets off;
  auto bytes = full_dump(&off);
  patch(bytes, off.thread_list, uint32_t{0xFFFFFFFF});
  patch(bytes, off.memory64, uint64_t{0x8000000000000000});
  patch(bytes, off.memory_info + 8, UINT64_MAX);
  patch(bytes, off.handles + 8, uint32_t{0xFFFFFFFF});
  patch(bytes, offsetof(format::Header, number_of_streams), uint32_t{0xFFFFFFFF});
  seed("huge_counts", bytes);
  auto dump = Minidump::from_bytes(bytes);
  touch_everything(dump);
  EXPECT_TRUE(mentions(dump, "ThreadList: count 4294967295")) << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "Memory64List: 9223372036854775808 ranges")) << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "MemoryInfoList:")) << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "HandleData:")) << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "directory: 4294967295 streams")) << joined(dump.problems());
  EXPECT_EQ(dump.memory_info().size(), 2u);
  EXPECT_EQ(dump.handles().size(), 2u);
}

TEST(Reader, ReportsDuplicateStreamsButAllowsSeveralExceptions) {
  Builder b;
  format::SystemInfo si{};
  si.number_of_processors = 1;
  const uint32_t first = b.put(si);
  si.number_of_processors = 2;
  const uint32_t second = b.put(si);
  b.stream(StreamType::SystemInfo, first, sizeof(si));
  b.stream(StreamType::SystemInfo, second, sizeof(si));
  format::ExceptionStream e{};
  e.exception_record.exception_code = 1;
  b.stream(StreamType::Exception, b.put(e), sizeof(e));
  e.exception_record.exception_code = 2;
  b.stream(StreamType::Exception, b.put(e), sizeof(e));
  auto bytes = b.finish();
  seed("duplicates", bytes);
  auto dump = Minidump::from_bytes(bytes);
  ASSERT_EQ(dump.problems().size(), 1u) << joined(dump.problems());
  EXPECT_TRUE(mentions(dump, "directory entry 1: duplicate SystemInfo stream"));
  EXPECT_EQ(dump.system_info()->processors, 1);
  ASSERT_EQ(dump.exceptions().size(), 2u);
  EXPECT_EQ(dump.exceptions()[1].code, 2u);
  EXPECT_EQ(dump.streams().size(), 4u);
}

TEST(Reader, HandleObjectInfoCycleTerminates) {
  Offsets off;
  auto bytes = full_dump(&off);
  // The second block's NextInfoRva points back at the first.
  patch(bytes, off.second_object_info, static_cast<uint32_t>(off.first_object_info));
  seed("handle_cycle", bytes);
  auto dump = Minidump::from_bytes(bytes);
  EXPECT_TRUE(mentions(dump, "loops back")) << joined(dump.problems());
  ASSERT_EQ(dump.handles().size(), 2u);
  EXPECT_EQ(dump.handles()[0].object_info.size(), 2u);
  // A block pointing at itself.
  patch(bytes, off.first_object_info, static_cast<uint32_t>(off.first_object_info));
  auto self = Minidump::from_bytes(bytes);
  EXPECT_EQ(self.handles()[0].object_info.size(), 1u);
  EXPECT_TRUE(mentions(self, "loops back"));
}

// A context of a size no writer uses is an unknown layout, not corruption: the thread has no
// registers and the dump no problem for it (ReaderContextLayouts has the layouts it knows).
TEST(Reader, AcceptsPaddedListsAndShortContextsOfUnknownLayout) {
  Builder b;
  format::ContextAmd64 ctx{};
  const uint32_t ctx_rva = b.put(ctx);
  b.stream(StreamType::ThreadList, [&] {
    b.put(uint64_t{2});  // count plus 4 bytes of padding, as old producers wrote it
    format::Thread t{};
    t.thread_id = 1;
    t.thread_context = {sizeof(ctx), ctx_rva};
    b.put(t);
    t.thread_id = 2;
    t.thread_context = {100, ctx_rva};
    b.put(t);
  });
  const uint32_t odd = b.put(uint32_t{3});
  b.put(uint32_t{0});
  b.stream(StreamType::ModuleList, [&] {
    b.put(uint32_t{1});
    format::Module m{};
    m.module_name_rva = odd;
    b.put(m);
  });
  auto bytes = b.finish();
  seed("padded", bytes);
  auto dump = Minidump::from_bytes(bytes);
  auto threads = dump.threads();
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[1].tid, 2u);
  EXPECT_TRUE(threads[0].context);
  EXPECT_EQ(threads[0].context_layout, ContextLayout::amd64);
  EXPECT_FALSE(threads[1].context);
  EXPECT_EQ(threads[1].context_layout, ContextLayout::unknown);
  EXPECT_EQ(threads[1].context_bytes.size(), 100u);
  EXPECT_EQ(describe_context(threads[1].context_layout, threads[1].context_bytes.size()), "unknown layout, 100 bytes");
  EXPECT_TRUE(mentions(dump, "odd UTF-16 length")) << joined(dump.problems());
  EXPECT_EQ(dump.problems().size(), 1u) << joined(dump.problems());
  EXPECT_EQ(std::string_view(dump.modules().at(0).name), "");
}

TEST(Reader, ConvertsUtf16Robustly) {
  Builder b;
  // A surrogate pair (U+1F600), then a lone high surrogate, then 'A'.
  const uint32_t rva = b.put_string(std::u16string{u'\xD83D', u'\xDE00', u'\xD800', u'A'});
  b.stream(StreamType::SystemInfo, [&] {
    format::SystemInfo si{};
    si.csd_version_rva = rva;
    b.put(si);
  });
  b.stream(StreamType::CommentA, [&] { b.put_bytes("hello\0junk", 10); });
  auto dump = Minidump::from_bytes(b.finish());
  EXPECT_EQ(dump.system_info()->csd_version, "\xF0\x9F\x98\x80\xEF\xBF\xBD" "A");
  EXPECT_EQ(dump.text_stream(static_cast<uint32_t>(StreamType::CommentA)), "hello");
  EXPECT_TRUE(dump.problems().empty()) << joined(dump.problems());
}

// The older or rarer shapes: ThreadExList, UnloadedModuleList, CommentW, MISC_INFO (24 bytes)
// and 32-byte MINIDUMP_HANDLE_DESCRIPTORs.
TEST(Reader, ParsesOlderStreamShapes) {
  Builder b;
  const uint32_t name = b.put_string(u"libgone.so");
  b.stream(StreamType::ThreadExList, [&] {
    b.put(uint32_t{1});
    b.put(format::ThreadEx{77, 0, 0, 0, 0, {}, {}, {}});
  });
  b.stream(StreamType::UnloadedModuleList, [&] {
    b.put(format::UnloadedModuleListHeader{12, sizeof(format::UnloadedModule), 1});
    b.put(format::UnloadedModule{0x7f0000000000, 0x2000, 0, 0, name});
  });
  b.stream(StreamType::CommentW, [&] { b.put_bytes(u"h\u00e9", 4); });
  b.stream(StreamType::MiscInfo, [&] { b.put(std::array<uint32_t, 6>{24, format::misc::kProcessId, 9}); });
  b.stream(StreamType::HandleData, [&] {
    b.put(format::HandleDataStreamHeader{16, 32, 1, 0});
    b.put_bytes(std::array<uint32_t, 8>{5, 0, name, 0}.data(), 32);
  });
  auto bytes = b.finish();
  seed("older_shapes", bytes);
  auto dump = Minidump::from_bytes(bytes);
  EXPECT_TRUE(dump.problems().empty()) << joined(dump.problems());
  ASSERT_EQ(dump.threads().size(), 1u);
  EXPECT_EQ(dump.threads()[0].tid, 77u);
  ASSERT_EQ(dump.unloaded_modules().size(), 1u);
  EXPECT_EQ(std::string_view(dump.unloaded_modules()[0].name), "libgone.so");
  EXPECT_EQ(dump.unloaded_modules()[0].size, 0x2000u);
  EXPECT_EQ(dump.text_stream(static_cast<uint32_t>(StreamType::CommentW)), "h\xc3\xa9");
  EXPECT_EQ(dump.misc_info()->pid, 9u);
  EXPECT_FALSE(dump.misc_info()->xstate_enabled_features);
  ASSERT_EQ(dump.handles().size(), 1u);
  EXPECT_EQ(std::string_view(dump.handles()[0].type_name), "libgone.so");
  EXPECT_TRUE(dump.handles()[0].object_info.empty());
}

}  // namespace
}  // namespace snapdump::reader
