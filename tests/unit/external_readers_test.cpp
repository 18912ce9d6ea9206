// Tests of the harness that runs real third-party minidump readers (LLDB 16 and Breakpad's
// minidump_stackwalk / minidump_dump) on dump files. The parser tests use output captured from
// those tools; the live tests run them. The tools are required (scripts/setup.sh installs
// them): a missing tool is a failure, never a skip.
#include "support/external_readers.h"
#include "support/target_process.h"

#include <string_view>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

namespace snapdump::testing {
namespace {

// --- Real output samples -------------------------------------------------------------------

// lldb-16 --batch -c lldb_written.dmp -o 'thread list' -o 'bt all' on a minidump that lldb-16
// itself wrote (process save-core --plugin-name=minidump --style=stack) of
// `snapdump_target --threads 5`, trimmed to three threads. LLDB's minidump has no thread names.
constexpr const char* kLldbCoreOutput = R"((lldb) target create --core "/tmp/exp/tgt.dmp"
Core file '/tmp/exp/tgt.dmp' (x86_64) was loaded.
(lldb) thread list
Process 32588 stopped
* thread #1: tid = 32588, 0x00007f07e71162ec libc.so.6`__GI___libc_read at read.c:26:10, stop reason = signal SIGSTOP
  thread #2: tid = 32593, 0x00007f07e70ed545 libc.so.6`__GI___clock_nanosleep(clock_id=0, flags=0, req=0x00007f07e5ffeeb0, rem=0x0000000000000000) at clock_nanosleep.c:48:7
  thread #4: tid = 32595, 0x00007f07e711f829 libc.so.6`syscall at syscall.S:38
(lldb) bt all
* thread #1, stop reason = signal SIGSTOP
  * frame #0: 0x00007f07e71162ec libc.so.6`__GI___libc_read at read.c:26:10
    frame #1: 0x00007f07e71162d2 libc.so.6`__GI___libc_read(fd=0, buf=0x00007fff1c324080, nbytes=4096) at read.c:24:1
    frame #2: 0x00005591e46ebd17 snapdump_target`(anonymous namespace)::read_line(buffer="", line="") at target_main.cpp:42:21
    frame #3: 0x00005591e46ed155 snapdump_target`main(argc=<unavailable>, argv=<unavailable>) at target_main.cpp:121:19
    frame #4: 0x00007f07e704524a libc.so.6`__libc_start_call_main(main=(snapdump_target`main at target_main.cpp:77:33), argc=3, argv=0x00007fff1c3256e8) at libc_start_call_main.h:58:16
    frame #5: 0x00007f07e7045305 libc.so.6`__libc_start_main_impl(main=(snapdump_target`main at target_main.cpp:77:33), argc=3, argv=0x00007fff1c3256e8, init=<unavailable>, fini=<unavailable>, rtld_fini=<unavailable>, stack_end=0x00007fff1c3256d8) at libc-start.c:360:3
    frame #6: 0x00005591e46ebaf1 snapdump_target`_start + 33
  thread #2
    frame #0: 0x00007f07e70ed545 libc.so.6`__GI___clock_nanosleep(clock_id=0, flags=0, req=0x00007f07e5ffeeb0, rem=0x0000000000000000) at clock_nanosleep.c:48:7
    frame #1: 0x00007f07e70f1e53 libc.so.6`__GI___nanosleep(req=<unavailable>, rem=<unavailable>) at nanosleep.c:25:13
    frame #2: 0x00005591e46ffb01 snapdump_target`park_in_nanosleep(argument=<unavailable>) at park_functions.cpp:39:18
    frame #3: 0x00007f07e70a71f5 libc.so.6`start_thread(arg=<unavailable>) at pthread_create.c:442:8
    frame #4: 0x00007f07e71278ec libc.so.6`__clone3 at clone3.S:81
  thread #4
    frame #0: 0x00007f07e711f829 libc.so.6`syscall at syscall.S:38
    frame #1: 0x00005591e46ffbe0 snapdump_target`park_in_futex_wait(argument=<unavailable>) at park_functions.cpp:66:22
    frame #2: 0x00007f07e70a71f5 libc.so.6`start_thread(arg=<unavailable>) at pthread_create.c:442:8
    frame #3: 0x00007f07e71278ec libc.so.6`__clone3 at clone3.S:81
)";

// lldb-16 -b -p PID -o 'thread list' -o 'bt all' on a live snapdump_target: the attach prints
// a stop report (frame #0 only) first, and threads carry names. Trimmed to two threads.
constexpr const char* kLldbLiveOutput = R"((lldb) process attach --pid 492
Process 492 stopped
* thread #1, name = 'snapdump_target', stop reason = signal SIGSTOP
    frame #0: 0x00007efe165162ec libc.so.6`__GI___libc_read at read.c:26:10
  thread #2, name = 'sd-nanosleep', stop reason = signal SIGSTOP
    frame #0: 0x00007efe164ed545 libc.so.6`__GI___clock_nanosleep(clock_id=0, flags=0, req=0x00007efe168a4eb0, rem=0x0000000000000000) at clock_nanosleep.c:48:7
Executable module set to "/work/main/build-lead/tests/targets/snapdump_target".
Architecture set to: x86_64-pc-linux-gnu.
(lldb) thread list
Process 492 stopped
* thread #1: tid = 492, 0x00007efe165162ec libc.so.6`__GI___libc_read at read.c:26:10, name = 'snapdump_target', stop reason = signal SIGSTOP
  thread #2: tid = 494, 0x00007efe164ed545 libc.so.6`__GI___clock_nanosleep(clock_id=0, flags=0, req=0x00007efe168a4eb0, rem=0x0000000000000000) at clock_nanosleep.c:48:7, name = 'sd-nanosleep', stop reason = signal SIGSTOP
(lldb) bt all
* thread #1, name = 'snapdump_target', stop reason = signal SIGSTOP
  * frame #0: 0x00007efe165162ec libc.so.6`__GI___libc_read at read.c:26:10
    frame #1: 0x00007efe165162d2 libc.so.6`__GI___libc_read(fd=0, buf=0x00007ffdfb8f0e00, nbytes=4096) at read.c:24:1
    frame #2: 0x000056010af78d17 snapdump_target`(anonymous namespace)::read_line(buffer="", line="") at target_main.cpp:42:21
    frame #3: 0x000056010af7a155 snapdump_target`main(argc=<unavailable>, argv=<unavailable>) at target_main.cpp:121:19
  thread #2, name = 'sd-nanosleep', stop reason = signal SIGSTOP
    frame #0: 0x00007efe164ed545 libc.so.6`__GI___clock_nanosleep(clock_id=0, flags=0, req=0x00007efe168a4eb0, rem=0x0000000000000000) at clock_nanosleep.c:48:7
    frame #1: 0x00007efe164f1e53 libc.so.6`__GI___nanosleep(req=<unavailable>, rem=<unavailable>) at nanosleep.c:25:13
    frame #2: 0x000056010af8cb01 snapdump_target`park_in_nanosleep(argument=<unavailable>) at park_functions.cpp:39:18
)";

// lldb-16 `image list` on the same lldb-written minidump (trimmed).
constexpr const char* kLldbImageList = R"((lldb) image list
[  0] C87A547C-0920-9991-5DEC-4F19A04FB5B2-2D14D17F 0x00005591e46e4000 /work/main/build-lead/tests/targets/snapdump_target 
[  1] B0AF7178-BA47-ACA5-8D16-966D2C4D17C9-13589189 0x00007f07e7549000 [vdso](0x00007f07e7549000) 
[  4] 93AC61EC-5A8E-B139-6F9F-BD350E3169A5-58528A40 0x00007f07e701e000 /lib/x86_64-linux-gnu/libc.so.6 
      /usr/lib/debug/.build-id/93/ac61ec5a8eb1396f9fbd350e3169a558528a40.debug
[  6] 7EBC65E5-2F2B-BEA4-98B4-040FA92F7238-377AABA9 0x00007f07e754b000 /lib64/ld-linux-x86-64.so.2 
      /usr/lib/debug/.build-id/7e/bc65e52f2bbea498b4040fa92f7238377aaba9.debug
warning: This version of LLDB has no plugin for the language "assembler". Inspection of frame variables will be limited.
)";

// minidump_stackwalk -m on a snapdump-written minidump of `snapdump_target --threads 2`
// (trimmed), where every thread has a context, so Breakpad walks the stacks.
constexpr const char* kStackwalkMachine = R"(OS|Linux|6.18.44 Linux 6.18.44-fc-v782 #1 SMP PREEMPT_DYNAMIC @0 x86_64
CPU|amd64|family 26 model 2 stepping 1|2
GPU|||
Crash|No crash||
Module|snapdump_target||snapdump_target|7C547AC8200991995DEC4F19A04FB5B20|0x55b456da0000|0x55b456de9fff|1
Module|libc.so.6||libc.so.6|EC61AC938E5A39B16F9FBD350E3169A50|0x7f0f41e1e000|0x7f0f41ff2fff|0
Module|[vdso]||[vdso]|7871AFB047BAA5AC8D16966D2C4D17C90|0x7f0f42295000|0x7f0f42296fff|0

0|0|libc.so.6||||0xf82ec
0|1|snapdump_target||||0x9155
1|0|libc.so.6||||0xcf545
1|1|libc.so.6||||0xd3e53
1|2|snapdump_target||||0x1bb01
1|3|libc.so.6||||0x891f5
)";

// minidump_stackwalk -m on the lldb-written minidump: Breakpad cannot read LLDB's thread
// contexts ("MinidumpContext unknown context type 0x100000"), so no frame lines at all.
constexpr const char* kStackwalkMachineNoFrames = R"(OS|Linux|32.0.1378179616 
CPU|amd64|family 0 model 0 stepping 56|0
GPU|||
Crash|SIGSTOP|0x7f07e71162ec|0
Module|snapdump_target||snapdump_target|7C547AC8200991995DEC4F19A04FB5B20|0x5591e46e4000|0x5591e46e9eb7|1
Module|libc.so.6||libc.so.6|EC61AC938E5A39B16F9FBD350E3169A50|0x7f07e701e000|0x7f07e7043387|0
)";

// minidump_dump on a snapdump-written minidump (trimmed), and its stderr.
constexpr const char* kMinidumpDumpOut = R"(MDRawHeader
  signature            = 0x504d444d
  version              = 0xa793
  stream_count         = 24
  stream_directory_rva = 0x20

mDirectory[3]
MDRawDirectory
  stream_type        = 0x3 (MD_THREAD_LIST_STREAM)
  location.data_size = 196
  location.rva       = 0x9530

Streams:
  stream type 0x0 (MD_UNUSED_STREAM) at index 23
  stream type 0x3 (MD_THREAD_LIST_STREAM) at index 3
  stream type 0x4 (MD_MODULE_LIST_STREAM) at index 5
  stream type 0x18 (MD_THREAD_NAME_LIST_STREAM) at index 4
  stream type 0x47670009 (MD_LINUX_MAPS) at index 7

MinidumpThreadList
  thread_count = 2

thread[0]
MDRawThread
  thread_id                   = 0x382
  suspend_count               = 0
  stack.start_of_memory_range = 0x7ffcbecd7fe0

thread[1]
MDRawThread
  thread_id                   = 0x387
  suspend_count               = 0

MDException
  thread_id                  = 0x999

thread_name[1]
MDRawThreadName
  thread_id                   = 0x387
  thread_name_rva             = 0x9618
  thread_name                 = "sd-nanosleep"

MinidumpModuleList
  module_count = 1

module[0]
MDRawModule
  base_of_image                   = 0x55b456da0000
  (code_file)                     = "/work/main/build-lead/tests/targets/snapdump_target"
  (code_identifier)               = "c87a547c092099915dec4f19a04fb5b22d14d17f"
)";
constexpr const char* kMinidumpDumpErr =
    R"(2026-11-23 21:18:03: minidump.cc:6448: INFO: GetStream: type 1129316353 not present
2026-11-23 21:18:03: minidump_dump.cc:194: ERROR: minidump.GetMemoryInfoList() failed
2026-11-23 21:18:03: minidump.cc:5558: INFO: Minidump closing minidump
)";

// --- Helpers -------------------------------------------------------------------------------

const LldbThread* thread_with_index(const std::vector<LldbThread>& threads, std::uint32_t index) {
  for (const LldbThread& thread : threads)
    if (thread.index == index) return &thread;
  return nullptr;
}

bool contains(const std::vector<std::string>& items, const std::string& wanted) {
  return std::find(items.begin(), items.end(), wanted) != items.end();
}

// Breakpad's debug identifier for an ELF build id: the first 16 bytes as a GUID (first three
// fields byte-swapped), uppercase, then the age 0.
std::string breakpad_id_from_build_id(const std::string& hex) {
  if (hex.size() < 32) return {};
  std::string swapped = hex.substr(6, 2) + hex.substr(4, 2) + hex.substr(2, 2) + hex.substr(0, 2) +
                        hex.substr(10, 2) + hex.substr(8, 2) + hex.substr(14, 2) +
                        hex.substr(12, 2) + hex.substr(16, 16);
  for (char& c : swapped) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return swapped + "0";
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/snapdump_ext_XXXXXX";
    const char* made = ::mkdtemp(pattern);
    if (made != nullptr) path_ = made;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void put16(std::string& out, std::uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); }
void put32(std::string& out, std::uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); }
void put64(std::string& out, std::uint64_t v) { out.append(reinterpret_cast<const char*>(&v), 8); }

// The smallest minidump readers accept: header, a 2-entry directory, MINIDUMP_SYSTEM_INFO
// (x86-64, Linux), an empty MINIDUMP_THREAD_LIST and an empty CSD version string.
std::string tiny_minidump() {
  constexpr std::uint32_t kDirectoryRva = 32;
  constexpr std::uint32_t kSystemInfoRva = kDirectoryRva + 2 * 12;  // 56
  constexpr std::uint32_t kThreadListRva = kSystemInfoRva + 56;     // 112
  constexpr std::uint32_t kCsdRva = kThreadListRva + 4;             // 116
  std::string out;
  put32(out, 0x504d444d);  // "MDMP"
  put32(out, 0xa793);      // MINIDUMP_VERSION
  put32(out, 2);           // NumberOfStreams
  put32(out, kDirectoryRva);
  put32(out, 0);           // CheckSum
  put32(out, 0x6b000000);  // TimeDateStamp
  put64(out, 0);           // Flags
  put32(out, 7), put32(out, 56), put32(out, kSystemInfoRva);  // SystemInfoStream
  put32(out, 3), put32(out, 4), put32(out, kThreadListRva);   // ThreadListStream
  put16(out, 9);       // PROCESSOR_ARCHITECTURE_AMD64
  put16(out, 6);       // ProcessorLevel
  put16(out, 0x201);   // ProcessorRevision
  out += '\x02';       // NumberOfProcessors
  out += '\x01';       // ProductType
  put32(out, 6);       // MajorVersion
  put32(out, 1);       // MinorVersion
  put32(out, 0);       // BuildNumber
  put32(out, 0x8201);  // PlatformId: Breakpad's MD_OS_LINUX
  put32(out, kCsdRva);
  put16(out, 0);  // SuiteMask
  put16(out, 0);  // Reserved2
  out.append(24, '\0');  // CPU_INFORMATION
  put32(out, 0);         // NumberOfThreads
  put32(out, 0);         // CSD version: MINIDUMP_STRING of length 0 ...
  put16(out, 0);         // ... and its terminating NUL
  return out;
}

// --- Parsers on captured output ------------------------------------------------------------

TEST(ExternalReadersParse, LldbBacktracesFromMinidump) {
  std::vector<LldbThread> threads = parse_lldb_backtraces(kLldbCoreOutput);
  ASSERT_EQ(threads.size(), 3u);
  const LldbThread* main = thread_with_index(threads, 1);
  ASSERT_NE(main, nullptr);
  EXPECT_EQ(main->tid, 32588u);
  EXPECT_EQ(main->name, "");
  EXPECT_EQ(main->frames,
            (std::vector<std::string>{"__GI___libc_read", "__GI___libc_read",
                                      "(anonymous namespace)::read_line", "main",
                                      "__libc_start_call_main", "__libc_start_main_impl",
                                      "_start"}));
  ASSERT_EQ(main->frame_details.size(), 7u);
  EXPECT_EQ(main->frame_details[0].pc, 0x00007f07e71162ecu);
  EXPECT_EQ(main->frame_details[0].module, "libc.so.6");
  EXPECT_EQ(main->frame_details[2].module, "snapdump_target");
  EXPECT_EQ(main->frame_details[6].pc, 0x00005591e46ebaf1u);

  const LldbThread* sleeper = thread_with_index(threads, 2);
  ASSERT_NE(sleeper, nullptr);
  EXPECT_EQ(sleeper->tid, 32593u);
  EXPECT_EQ(sleeper->frames,
            (std::vector<std::string>{"__GI___clock_nanosleep", "__GI___nanosleep",
                                      "park_in_nanosleep", "start_thread", "__clone3"}));
  const LldbThread* futex = thread_with_index(threads, 4);
  ASSERT_NE(futex, nullptr);
  EXPECT_EQ(futex->tid, 32595u);
  EXPECT_EQ(futex->frames, (std::vector<std::string>{"syscall", "park_in_futex_wait",
                                                     "start_thread", "__clone3"}));
}

TEST(ExternalReadersParse, LldbBacktracesFromLiveAttachKeepNamesAndLastFrames) {
  std::vector<LldbThread> threads = parse_lldb_backtraces(kLldbLiveOutput);
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0].index, 1u);
  EXPECT_EQ(threads[0].tid, 492u);
  EXPECT_EQ(std::string_view(threads[0].name), "snapdump_target");
  // The stop report showed frame #0 only; `bt all` came later and wins.
  EXPECT_EQ(threads[0].frames.size(), 4u);
  EXPECT_EQ(threads[1].tid, 494u);
  EXPECT_EQ(std::string_view(threads[1].name), "sd-nanosleep");
  EXPECT_EQ(threads[1].frames, (std::vector<std::string>{"__GI___clock_nanosleep",
                                                         "__GI___nanosleep", "park_in_nanosleep"}));
}

TEST(ExternalReadersParse, LldbFrameForms) {
  // Real lines: no debug info (name + offset), an argument that itself holds " at " and
  // a backtick, and a source location without arguments.
  LldbFrame unnamed = parse_lldb_frame("0x00005589ed4693f2 bash`___lldb_unnamed_symbol2989 + 210");
  EXPECT_EQ(unnamed.pc, 0x00005589ed4693f2u);
  EXPECT_EQ(unnamed.module, "bash");
  EXPECT_EQ(unnamed.function, "___lldb_unnamed_symbol2989");
  LldbFrame nested = parse_lldb_frame(
      "0x00007fb3c31ab24a libc.so.6`__libc_start_call_main(main=(bash`main), argc=2, "
      "argv=0x00007ffce6946bf8) at libc_start_call_main.h:58:16");
  EXPECT_EQ(nested.module, "libc.so.6");
  EXPECT_EQ(nested.function, "__libc_start_call_main");
  EXPECT_EQ(parse_lldb_frame("0x00007f07e71278ec libc.so.6`__clone3 at clone3.S:81").function,
            "__clone3");
  // Forms LLDB's frame format can produce (not captured here): a bare pc, an [opt] marker,
  // C++ operators and templates.
  LldbFrame bare = parse_lldb_frame("0x0000000000401000");
  EXPECT_EQ(bare.pc, 0x401000u);
  EXPECT_EQ(bare.module, "");
  EXPECT_EQ(bare.function, "");
  EXPECT_EQ(parse_lldb_frame("0x1 a.out`foo(x=1) at a.c:3:5 [opt]").function, "foo");
  EXPECT_EQ(parse_lldb_frame("0x1 a.out`Foo::operator()(this=0x0) at a.cc:3").function,
            "Foo::operator()");
  EXPECT_EQ(parse_lldb_frame("0x1 a.out`operator<<(os=0x0) at a.cc:3").function, "operator<<");
  EXPECT_EQ(parse_lldb_frame("0x1 a.out`std::vector<int, std::allocator<int> >::size() + 4")
                .function,
            "std::vector<int, std::allocator<int> >::size");
}

TEST(ExternalReadersParse, LldbBareAddressFrameIsShownAsAddress) {
  std::vector<LldbThread> threads =
      parse_lldb_backtraces("* thread #1, stop reason = signal SIGSEGV\n"
                            "  * frame #0: 0x0000000000401000\n"
                            "    frame #1: 0x00007f07e71278ec libc.so.6`__clone3 at clone3.S:81\n");
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0].frames, (std::vector<std::string>{"0x401000", "__clone3"}));
}

TEST(ExternalReadersParse, LldbImageList) {
  std::vector<LldbModule> modules = parse_lldb_image_list(kLldbImageList);
  ASSERT_EQ(modules.size(), 4u);
  EXPECT_EQ(std::string_view(modules[0].path), "/work/main/build-lead/tests/targets/snapdump_target");
  EXPECT_EQ(modules[0].uuid, "C87A547C-0920-9991-5DEC-4F19A04FB5B2-2D14D17F");
  EXPECT_EQ(modules[0].base, 0x00005591e46e4000u);
  EXPECT_EQ(modules[0].symbol_file, "");
  EXPECT_EQ(std::string_view(modules[1].path), "[vdso](0x00007f07e7549000)");
  EXPECT_EQ(std::string_view(modules[2].path), "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(modules[2].symbol_file,
            "/usr/lib/debug/.build-id/93/ac61ec5a8eb1396f9fbd350e3169a558528a40.debug");
  EXPECT_EQ(modules[3].base, 0x00007f07e754b000u);
  EXPECT_EQ(lldb_uuid_to_hex(modules[2].uuid), "93ac61ec5a8eb1396f9fbd350e3169a558528a40");
  // A module without a UUID has an empty UUID column.
  std::vector<LldbModule> bare =
      parse_lldb_image_list("[  3]                                  0x0000000000400000 /tmp/a.out \n");
  ASSERT_EQ(bare.size(), 1u);
  EXPECT_EQ(bare[0].uuid, "");
  EXPECT_EQ(bare[0].base, 0x400000u);
  EXPECT_EQ(std::string_view(bare[0].path), "/tmp/a.out");
}

TEST(ExternalReadersParse, StackwalkMachineReadable) {
  StackwalkResult result = parse_minidump_stackwalk(kStackwalkMachine);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.os, "Linux");
  EXPECT_EQ(result.cpu, "amd64");
  EXPECT_EQ(result.crash_reason, "No crash");
  EXPECT_EQ(result.crashed_thread, -1);
  EXPECT_EQ(result.modules, (std::vector<std::string>{"snapdump_target", "libc.so.6", "[vdso]"}));
  ASSERT_EQ(result.module_details.size(), 3u);
  EXPECT_TRUE(result.module_details[0].main);
  EXPECT_FALSE(result.module_details[1].main);
  EXPECT_EQ(result.module_details[0].debug_id, "7C547AC8200991995DEC4F19A04FB5B20");
  EXPECT_EQ(result.module_details[0].base, 0x55b456da0000u);
  EXPECT_EQ(result.module_details[0].end, 0x55b456de9fffu);
  ASSERT_EQ(result.thread_frames.size(), 2u);
  EXPECT_EQ(result.thread_frames[0],
            (std::vector<std::string>{"libc.so.6 + 0xf82ec", "snapdump_target + 0x9155"}));
  EXPECT_EQ(result.thread_frames[1].size(), 4u);
  EXPECT_EQ(result.thread_frames[1][2], "snapdump_target + 0x1bb01");
  // The Breakpad id of a module is derived from the build id LLDB shows as its UUID.
  EXPECT_EQ(breakpad_id_from_build_id(
                lldb_uuid_to_hex("C87A547C-0920-9991-5DEC-4F19A04FB5B2-2D14D17F")),
            "7C547AC8200991995DEC4F19A04FB5B20");

  StackwalkResult no_frames = parse_minidump_stackwalk(kStackwalkMachineNoFrames);
  EXPECT_TRUE(no_frames.ok);
  EXPECT_EQ(no_frames.crash_reason, "SIGSTOP");
  EXPECT_EQ(no_frames.crashed_thread, 0);
  EXPECT_EQ(no_frames.modules.size(), 2u);
  EXPECT_TRUE(no_frames.thread_frames.empty());

  // A frame with a symbol shows its function; one outside every module shows its address.
  StackwalkResult symbolized = parse_minidump_stackwalk(
      "OS|Linux|6.1\n0|0|a.out|main|a.c|3|0x4\n0|1|||||0x7fff00001234\n");
  EXPECT_EQ(symbolized.thread_frames[0], (std::vector<std::string>{"main", "0x7fff00001234"}));
  EXPECT_FALSE(parse_minidump_stackwalk("").ok);
}

TEST(ExternalReadersParse, MinidumpDumpText) {
  MinidumpDumpResult result = parse_minidump_dump(kMinidumpDumpOut, kMinidumpDumpErr);
  EXPECT_EQ(result.streams.size(), 5u);
  EXPECT_EQ(result.streams[0x3], "MD_THREAD_LIST_STREAM");
  EXPECT_EQ(result.streams[0x18], "MD_THREAD_NAME_LIST_STREAM");
  EXPECT_EQ(result.streams[0x47670009], "MD_LINUX_MAPS");
  // Only MDRawThread blocks count (not the MDException or thread-name ones).
  EXPECT_EQ(result.thread_ids, (std::vector<std::uint64_t>{0x382, 0x387}));
  EXPECT_EQ(result.thread_names, (std::vector<std::string>{"sd-nanosleep"}));
  EXPECT_EQ(result.module_files,
            (std::vector<std::string>{"/work/main/build-lead/tests/targets/snapdump_target"}));
  EXPECT_EQ(result.errors, (std::vector<std::string>{"minidump.GetMemoryInfoList() failed"}));
}

// --- run_command -----------------------------------------------------------------------------

TEST(ExternalReadersRun, CapturesOutputAndExitCode) {
  CommandResult ok = run_command({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(ok.exit_code, 3);
  EXPECT_EQ(ok.out, "out\n");
  EXPECT_EQ(ok.err, "err\n");
  EXPECT_FALSE(ok.timed_out);
  // No shell: the argument reaches the program as it is.
  EXPECT_EQ(run_command({"/bin/echo", "a;b $HOME"}).out, "a;b $HOME\n");
  // Stdin is /dev/null, so a reader of stdin does not hang.
  EXPECT_EQ(run_command({"/bin/cat"}, 5000).exit_code, 0);
  // Large output on both streams does not deadlock.
  CommandResult big = run_command(
      {"/bin/sh", "-c", "head -c 300000 /dev/zero; head -c 200000 /dev/zero >&2"}, 20000);
  EXPECT_EQ(big.out.size(), 300000u);
  EXPECT_EQ(big.err.size(), 200000u);
}

TEST(ExternalReadersRun, MissingProgramAndTimeout) {
  CommandResult missing = run_command({"/nonexistent/program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("/nonexistent/program"), std::string::npos);

  // The timeout kills the whole process group, including a grandchild holding the pipes.
  auto start = std::chrono::steady_clock::now();
  CommandResult slow = run_command({"/bin/sh", "-c", "sleep 30 & sleep 30; echo never"}, 300);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(slow.timed_out);
  EXPECT_EQ(slow.exit_code, 128 + SIGKILL);
  EXPECT_EQ(slow.out, "");
  EXPECT_LT(took, std::chrono::seconds(5));
}

// --- The real tools ---------------------------------------------------------------------------

TEST(ExternalReadersTools, AreInstalled) {
  EXPECT_EQ(lldb_path(), "/usr/bin/lldb-16") << "install lldb-16: scripts/setup.sh";
  EXPECT_NE(minidump_stackwalk_path(), "") << "install minidump@0.26.0: scripts/setup.sh";
  EXPECT_NE(minidump_dump_path(), "") << "install minidump@0.26.0: scripts/setup.sh";
  EXPECT_EQ(minidump_stackwalk_path().rfind('/', 0), 0u);
}

TEST(ExternalReadersTools, ReadHandBuiltMinidump) {
  ASSERT_NE(lldb_path(), "");
  ASSERT_NE(minidump_dump_path(), "");
  ASSERT_NE(minidump_stackwalk_path(), "");
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string dump = dir.path() + "/tiny.dmp";
  {
    std::ofstream file(dump, std::ios::binary);
    file << tiny_minidump();
  }

  MinidumpDumpResult dumped = run_minidump_dump(dump);
  EXPECT_EQ(dumped.streams, (std::map<std::uint32_t, std::string>{
                                {0x3, "MD_THREAD_LIST_STREAM"}, {0x7, "MD_SYSTEM_INFO_STREAM"}}))
      << dumped.raw << dumped.err;
  EXPECT_NE(dumped.raw.find("thread_count = 0"), std::string::npos) << dumped.raw;
  EXPECT_NE(dumped.raw.find("= 0x8201 (linux)"),
            std::string::npos)
      << dumped.raw;
  EXPECT_TRUE(dumped.thread_ids.empty());
  // It has no module, memory or misc info stream, which minidump_dump reports as errors.
  EXPECT_EQ(dumped.exit_code, 1);
  EXPECT_TRUE(contains(dumped.errors, "minidump.GetModuleList() failed")) << dumped.err;

  StackwalkResult walked = run_minidump_stackwalk(dump);
  EXPECT_TRUE(walked.ok) << walked.raw << walked.err;
  EXPECT_EQ(walked.os, "Linux");
  EXPECT_EQ(walked.cpu, "amd64");
  EXPECT_EQ(walked.crash_reason, "No crash");
  EXPECT_TRUE(walked.modules.empty());
  EXPECT_TRUE(walked.thread_frames.empty());

  CommandResult lldb = lldb_batch(dump, {"thread list"});
  EXPECT_EQ(lldb.exit_code, 0) << lldb.out << lldb.err;
  EXPECT_FALSE(lldb.timed_out);
  EXPECT_NE(lldb.out.find("Core file '" + dump + "' (x86_64) was loaded."), std::string::npos)
      << lldb.out;
  EXPECT_TRUE(parse_lldb_backtraces(lldb.out).empty()) << lldb.out;
}

// Has lldb-16 write a minidump of a live snapdump_target, then reads it back with all three
// readers and checks them against the target's own report and against each other.
TEST(ExternalReadersTools, ReadLldbWrittenMinidumpOfLiveTarget) {
  const std::string lldb = lldb_path();
  ASSERT_NE(lldb, "");
  ASSERT_NE(minidump_dump_path(), "");
  ASSERT_NE(minidump_stackwalk_path(), "");
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string dump = dir.path() + "/lldb_written.dmp";

  auto target = TargetProcess::spawn({"--threads", "3"});
  CommandResult saved = lldb_save_minidump(target->pid(), dump);
  ASSERT_EQ(saved.exit_code, 0) << saved.out << saved.err;
  ASSERT_TRUE(std::filesystem::exists(dump)) << saved.out << saved.err;
  EXPECT_NO_THROW(target->heartbeat()) << "the target must run on once LLDB detaches";

  // LLDB reading its own dump.
  CommandResult read = lldb_batch(dump, {"thread list", "bt all", "image list"});
  ASSERT_EQ(read.exit_code, 0) << read.out << read.err;
  std::vector<LldbThread> threads = parse_lldb_backtraces(read.out);
  const auto& report_threads = target->report().at("threads");
  ASSERT_EQ(threads.size(), report_threads.size()) << read.out;
  std::set<std::uint64_t> lldb_tids;
  for (const LldbThread& thread : threads) lldb_tids.insert(thread.tid);
  for (const auto& expected : report_threads) {
    const auto tid = expected.at("tid").get<std::uint64_t>();
    const auto function = expected.at("function").get<std::string>();
    auto found = std::find_if(threads.begin(), threads.end(),
                              [&](const LldbThread& t) { return t.tid == tid; });
    ASSERT_NE(found, threads.end()) << "tid " << tid << "\n" << read.out;
    EXPECT_TRUE(contains(found->frames, function)) << "tid " << tid << " lacks " << function
                                                   << "\n" << read.out;
  }
  std::vector<LldbModule> modules = parse_lldb_image_list(read.out);
  auto exe = std::find_if(modules.begin(), modules.end(),
                          [](const LldbModule& m) { return m.path == target_path(); });
  ASSERT_NE(exe, modules.end()) << read.out;
  EXPECT_EQ(lldb_uuid_to_hex(exe->uuid).size(), 40u) << exe->uuid;  // a 20-byte GNU build id
  EXPECT_NE(exe->base, 0u);

  // Breakpad's minidump_dump: the same threads and modules.
  MinidumpDumpResult dumped = run_minidump_dump(dump);
  EXPECT_EQ(dumped.streams[0x3], "MD_THREAD_LIST_STREAM") << dumped.raw;
  EXPECT_EQ(dumped.streams[0x4], "MD_MODULE_LIST_STREAM");
  EXPECT_EQ(dumped.streams[0x7], "MD_SYSTEM_INFO_STREAM");
  EXPECT_EQ(std::set<std::uint64_t>(dumped.thread_ids.begin(), dumped.thread_ids.end()),
            lldb_tids);
  EXPECT_TRUE(contains(dumped.module_files, target_path())) << dumped.raw;

  // Breakpad's minidump_stackwalk: modules with ids matching LLDB's UUIDs. (It cannot walk
  // the stacks: LLDB writes thread contexts Breakpad rejects, so threads have no frames.)
  StackwalkResult walked = run_minidump_stackwalk(dump);
  ASSERT_TRUE(walked.ok) << walked.raw << walked.err;
  EXPECT_EQ(walked.os, "Linux");
  EXPECT_EQ(walked.cpu, "amd64");
  const std::string exe_name = std::filesystem::path(target_path()).filename();
  auto walked_exe = std::find_if(walked.module_details.begin(), walked.module_details.end(),
                                 [&](const StackwalkModule& m) { return m.name == exe_name; });
  ASSERT_NE(walked_exe, walked.module_details.end()) << walked.raw;
  EXPECT_TRUE(walked_exe->main);
  EXPECT_EQ(walked_exe->base, exe->base);
  EXPECT_EQ(walked_exe->debug_id, breakpad_id_from_build_id(lldb_uuid_to_hex(exe->uuid)));
}

}  // namespace
}  // namespace snapdump::testing
