// MiniDumpWriteDump and MiniDumpReadDumpStream through the C API: each callback answer asserted
// by its effect on the file (read back with snapdump's reader), and failures as FALSE plus an
// HRESULT in the last error.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/reader.h"
#include "support/file_bytes.h"
#include "support/read_dump.h"
#include "support/target_process.h"

#include <dbghelp.h>
#include <processsnapshot.h>

namespace {

using snapdump::testing::TargetProcess;

// What a test's callback answers; CallbackParam points at one of these.
struct Answers {
  bool snapshot = true;       // IsProcessSnapshotCallback: S_FALSE
  DWORD exclude_tid = 0;      // IncludeThreadCallback: FALSE for this thread
  bool cancel = false;        // CancelCallback: Cancel = TRUE
  std::vector<uint8_t>* io = nullptr;  // IoStartCallback: S_FALSE, bytes land here
  std::string redact;         // VmStart S_FALSE; VmPostRead rewrites this text to X
  std::vector<ULONG> types;   // every callback type, in order
  bool finished = false;      // IoFinishCallback seen
  ULONG64 add_base = 0;       // MemoryCallback: this range once
  ULONG add_size = 0;
  ULONG64 exclude_module = 0; // IncludeModuleCallback: FALSE for the module at this base
  std::vector<std::wstring> module_paths;  // ModuleCallback FullPath of each module
  bool kernel = false;        // WriteKernelMinidumpCallback: return a Handle
  HRESULT kernel_status = S_OK;  // what KernelMinidumpStatusCallback reported
  bool vm = false;            // VmStartCallback: S_FALSE (also when redact is set)
  HRESULT read_failure = E_FAIL;  // ReadMemoryFailureCallback: the Status answered
  std::vector<MINIDUMP_READ_MEMORY_FAILURE_CALLBACK> read_failures;  // each one reported
  ULONG64 query_base = 0;     // VmQueryCallback: for this address answer query_protect, one page
  ULONG query_protect = 0;
  ULONG64 fill_base = 0;      // VmPreReadCallback: at this address fill fill_bytes bytes with 0xAB
  ULONG fill_bytes = 0;
  ULONG secondary = 0;        // SecondaryFlagsCallback: the flags answered
  ULONG secondary_in = ~0u;   // what SecondaryFlagsCallback was given
};

BOOL CALLBACK callback(PVOID param, PMINIDUMP_CALLBACK_INPUT in, PMINIDUMP_CALLBACK_OUTPUT out) {
  auto* a = static_cast<Answers*>(param);
  a->types.push_back(in->CallbackType);
  switch (in->CallbackType) {
    case IsProcessSnapshotCallback:
      if (a->snapshot) out->Status = S_FALSE;
      break;
    case IncludeThreadCallback:
      return in->IncludeThread.ThreadId != a->exclude_tid;
    case MemoryCallback:
      out->MemoryBase = a->add_base;
      out->MemorySize = a->add_size;
      a->add_size = 0;  // once; a size of 0 ends the MemoryCallbacks
      break;
    case IncludeModuleCallback:
      return in->IncludeModule.BaseOfImage != a->exclude_module;
    case ModuleCallback:
      a->module_paths.emplace_back(in->Module.FullPath);
      break;
    case WriteKernelMinidumpCallback:
      if (a->kernel) out->Handle = reinterpret_cast<HANDLE>(1);
      break;
    case KernelMinidumpStatusCallback:
      a->kernel_status = in->Status;
      break;
    case CancelCallback:
      out->CheckCancel = TRUE;
      out->Cancel = a->cancel;
      break;
    case IoStartCallback:
      if (a->io) out->Status = S_FALSE;
      break;
    case IoWriteAllCallback: {
      auto end = in->Io.Offset + in->Io.BufferBytes;
      if (a->io->size() < end) a->io->resize(end);
      std::memcpy(a->io->data() + in->Io.Offset, in->Io.Buffer, in->Io.BufferBytes);
      out->Status = S_OK;
      break;
    }
    case IoFinishCallback:
      a->finished = true;
      out->Status = S_OK;
      break;
    case VmStartCallback:
      if (!a->redact.empty() || a->vm) out->Status = S_FALSE;
      break;
    case ReadMemoryFailureCallback:
      a->read_failures.push_back(in->ReadMemoryFailure);
      out->Status = a->read_failure;
      break;
    case VmQueryCallback:
      if (in->VmQuery.Offset != a->query_base) break;  // VmQueryStatus stays E_NOTIMPL
      out->VmQueryStatus = S_OK;
      out->VmQueryResult = MINIDUMP_MEMORY_INFO{};
      out->VmQueryResult.BaseAddress = out->VmQueryResult.AllocationBase = a->query_base;
      out->VmQueryResult.AllocationProtect = out->VmQueryResult.Protect = a->query_protect;
      out->VmQueryResult.RegionSize = 4096;
      out->VmQueryResult.State = MEM_COMMIT;
      out->VmQueryResult.Type = MEM_PRIVATE;
      break;
    case VmPreReadCallback:
      if (in->VmPreRead.Offset != a->fill_base) break;
      std::memset(in->VmPreRead.Buffer, 0xAB, std::min(a->fill_bytes, in->VmPreRead.Size));
      out->VmReadStatus = S_OK;
      out->VmReadBytesCompleted = std::min(a->fill_bytes, in->VmPreRead.Size);
      break;
    case SecondaryFlagsCallback:
      a->secondary_in = in->SecondaryFlags;
      out->SecondaryFlags = a->secondary;
      break;
    case VmPostReadCallback: {
      if (a->redact.empty()) break;
      auto* bytes = static_cast<char*>(in->VmPostRead.Buffer);
      auto* end = bytes + in->VmPostRead.Completed;
      for (char* at = bytes; (at = std::search(at, end, a->redact.begin(), a->redact.end())) != end;)
        std::fill_n(at, a->redact.size(), 'X');
      break;
    }
  }
  return TRUE;
}

using snapdump::testing::file_bytes;

bool contains(const std::vector<uint8_t>& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// A target, its snapshot (HPSS as the seed captures it) and an output file.
struct Fixture {
  std::unique_ptr<TargetProcess> target;
  HANDLE process;
  HPSS snapshot = nullptr;
  std::string path = snapdump::testing::temp_dump_path("win-api");
  HANDLE file = CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  explicit Fixture(const std::vector<std::string>& args = {"--threads", "3", "--heap-mib", "2"},
                   DWORD flags = PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT |
                                 PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION |
                                 PSS_CAPTURE_HANDLES)
      : target(TargetProcess::spawn(args)),
        process(OpenProcess(PROCESS_ALL_ACCESS, FALSE, static_cast<DWORD>(target->pid()))) {
    EXPECT_EQ(PssCaptureSnapshot(process, static_cast<PSS_CAPTURE_FLAGS>(flags), CONTEXT_ALL, &snapshot),
              DWORD{ERROR_SUCCESS});
    EXPECT_NE(file, INVALID_HANDLE_VALUE);
  }
  ~Fixture() {
    CloseHandle(file);
    PssFreeSnapshot(GetCurrentProcess(), snapshot);
    CloseHandle(process);
    std::filesystem::remove(path);
  }
  BOOL dump(MINIDUMP_TYPE type, Answers& answers, HANDLE to = nullptr) {
    MINIDUMP_CALLBACK_INFORMATION info{callback, &answers};
    return MiniDumpWriteDump(answers.snapshot ? snapshot : process, static_cast<DWORD>(target->pid()),
                             to ? to : file, type, nullptr, nullptr, &info);
  }
  // A dump into a new file (the fixture's file is left past an earlier dump: as on Windows, a
  // dump is written at the file's current position). Its reader, or nullopt when
  // MiniDumpWriteDump failed (the last error says why). The file is removed; the mapping stays.
  std::optional<snapdump::reader::Minidump> dump_to_new_file(MINIDUMP_TYPE type, Answers& answers) {
    std::string second = path + ".2";
    HANDLE to = CreateFileA(second.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
    EXPECT_NE(to, INVALID_HANDLE_VALUE);
    BOOL ok = dump(type, answers, to);
    DWORD error = GetLastError();
    CloseHandle(to);
    std::optional<snapdump::reader::Minidump> d;
    if (ok) d = snapdump::testing::read_dump(second);
    std::filesystem::remove(second);
    SetLastError(error);
    return d;
  }
  DWORD tid(size_t i) const { return target->report()["threads"][i]["tid"].get<DWORD>(); }
  // Every task of the target (the report lists its worker threads, not all of them).
  size_t task_count() const {
    auto tasks = std::filesystem::directory_iterator("/proc/" + std::to_string(target->pid()) + "/task");
    return static_cast<size_t>(std::distance(tasks, std::filesystem::directory_iterator{}));
  }
};

TEST(MiniDumpApi, SnapshotHandleAndIncludeThreadExclusion) {
  Fixture f;
  Answers a;
  a.exclude_tid = f.tid(1);
  ASSERT_TRUE(f.dump(MiniDumpWithThreadInfo, a)) << std::hex << GetLastError();
  ASSERT_FALSE(a.types.empty());
  EXPECT_EQ(a.types.front(), ULONG{IsProcessSnapshotCallback});
  EXPECT_NE(std::find(a.types.begin(), a.types.end(), ULONG{ThreadCallback}), a.types.end());
  EXPECT_NE(std::find(a.types.begin(), a.types.end(), ULONG{ModuleCallback}), a.types.end());
  auto d = snapdump::testing::read_dump(f.path);
  auto threads = d.threads();
  EXPECT_EQ(threads.size(), f.task_count() - 1);
  for (const auto& t : threads) EXPECT_NE(t.tid, a.exclude_tid);
  EXPECT_TRUE(std::any_of(threads.begin(), threads.end(), [&](const auto& t) { return t.tid == f.tid(0); }));
}

TEST(MiniDumpApi, MemoryCallbackAddsARangeAndIncludeModuleExcludes) {
  Fixture f;
  const auto& secret = f.target->report()["markers"]["secret"];
  std::string text = secret["text"];
  uint64_t address = snapdump::testing::parse_address(secret["addr"]);
  // Without the callback a normal dump has no heap: the secret is absent.
  Answers plain;
  ASSERT_TRUE(f.dump(MiniDumpNormal, plain));
  EXPECT_FALSE(contains(file_bytes(f.path), text));
  ASSERT_FALSE(plain.module_paths.empty());
  std::string exe = snapdump::testing::target_path();
  EXPECT_NE(std::find(plain.module_paths.begin(), plain.module_paths.end(), std::wstring(exe.begin(), exe.end())),
            plain.module_paths.end());
  auto modules = snapdump::testing::read_dump(f.path).modules();
  auto it = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.name == exe; });
  ASSERT_NE(it, modules.end());

  Answers a;
  a.add_base = address;
  a.add_size = static_cast<ULONG>(text.size());
  a.exclude_module = it->base;
  auto dumped = f.dump_to_new_file(MiniDumpNormal, a);
  ASSERT_TRUE(dumped.has_value()) << std::hex << GetLastError();
  const auto& d = *dumped;
  std::string got(text.size(), '\0');
  ASSERT_EQ(d.read_memory(address, std::span<uint8_t>(reinterpret_cast<uint8_t*>(got.data()), got.size())),
            got.size());
  EXPECT_EQ(got, text);
  auto after = d.modules();
  EXPECT_TRUE(std::none_of(after.begin(), after.end(), [&](const auto& m) { return m.name == exe; }));
  EXPECT_EQ(after.size() + 1, modules.size());
}

TEST(MiniDumpApi, KernelMinidumpIsReportedAsNotImplemented) {
  Fixture f;
  Answers a;
  a.kernel = true;
  ASSERT_TRUE(f.dump(MiniDumpNormal, a)) << std::hex << GetLastError();
  EXPECT_EQ(a.kernel_status, E_NOTIMPL);
  ASSERT_GE(a.types.size(), 2u);
  EXPECT_EQ(a.types[a.types.size() - 2], ULONG{WriteKernelMinidumpCallback});
  EXPECT_EQ(a.types.back(), ULONG{KernelMinidumpStatusCallback});
  // Without a handle in the answer, no status callback follows.
  Answers quiet;
  std::string second = f.path + ".2";
  HANDLE file = CreateFileA(second.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_TRUE(f.dump(MiniDumpNormal, quiet, file));
  CloseHandle(file);
  std::filesystem::remove(second);
  EXPECT_EQ(quiet.types.back(), ULONG{WriteKernelMinidumpCallback});
}

TEST(MiniDumpApi, LiveProcessHandleIsCapturedFirst) {
  Fixture f;
  Answers a;
  a.snapshot = false;  // the callback does not claim a snapshot: hProcess is the process
  ASSERT_TRUE(f.dump(MiniDumpNormal, a)) << std::hex << GetLastError();
  auto d = snapdump::testing::read_dump(f.path);
  EXPECT_EQ(d.threads().size(), f.task_count());
  // No callback at all: the same.
  ASSERT_TRUE(MiniDumpWriteDump(f.process, 0, f.file, MiniDumpNormal, nullptr, nullptr, nullptr));
}

TEST(MiniDumpApi, IoCallbacksTakeEveryByteAndReadDumpStreamParsesThem) {
  Fixture f;
  std::vector<uint8_t> bytes;
  Answers a;
  a.io = &bytes;
  ASSERT_TRUE(f.dump(MiniDumpNormal, a, nullptr)) << std::hex << GetLastError();
  EXPECT_TRUE(a.finished);
  struct stat st {};
  ASSERT_EQ(stat(f.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 0);  // nothing went to the file
  auto d = snapdump::reader::Minidump::from_bytes(bytes);
  EXPECT_EQ(d.threads().size(), f.task_count());

  PMINIDUMP_DIRECTORY dir = nullptr;
  PVOID stream = nullptr;
  ULONG size = 0;
  ASSERT_TRUE(MiniDumpReadDumpStream(bytes.data(), ThreadListStream, &dir, &stream, &size));
  ASSERT_NE(dir, nullptr);
  EXPECT_EQ(dir->StreamType, ULONG32{ThreadListStream});
  auto* list = static_cast<MINIDUMP_THREAD_LIST*>(stream);
  EXPECT_EQ(list->NumberOfThreads, d.threads().size());
  EXPECT_EQ(size, sizeof(ULONG32) + list->NumberOfThreads * sizeof(MINIDUMP_THREAD));
  SetLastError(0);
  EXPECT_FALSE(MiniDumpReadDumpStream(bytes.data(), JavaScriptDataStream, &dir, &stream, &size));
  EXPECT_EQ(GetLastError(), DWORD{ERROR_NOT_FOUND});
  std::vector<uint8_t> garbage(64, 0x41);
  EXPECT_FALSE(MiniDumpReadDumpStream(garbage.data(), ThreadListStream, &dir, &stream, &size));
  EXPECT_EQ(GetLastError(), DWORD{ERROR_BAD_FORMAT});
}

TEST(MiniDumpApi, ReadDumpStreamOnAMappedFileRefusesATruncatedDirectory) {
  Fixture f;
  Answers a;
  ASSERT_TRUE(f.dump(MiniDumpNormal, a));
  int fd = open(f.path.c_str(), O_RDONLY);
  struct stat st {};
  fstat(fd, &st);
  void* base = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(base, MAP_FAILED);
  PVOID stream = nullptr;
  ULONG size = 0;
  EXPECT_TRUE(MiniDumpReadDumpStream(base, SystemInfoStream, nullptr, &stream, &size));
  EXPECT_EQ(size, sizeof(MINIDUMP_SYSTEM_INFO));
  EXPECT_EQ(static_cast<MINIDUMP_SYSTEM_INFO*>(stream)->ProcessorArchitecture, 9);  // AMD64
  munmap(base, st.st_size);
  // A copy whose header claims a directory far past the end of the mapping.
  std::vector<uint8_t> bytes = file_bytes(f.path);
  long page = sysconf(_SC_PAGESIZE);
  void* small = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  std::memcpy(small, bytes.data(), sizeof(MINIDUMP_HEADER));
  static_cast<MINIDUMP_HEADER*>(small)->StreamDirectoryRva = 64u << 20;
  EXPECT_FALSE(MiniDumpReadDumpStream(small, SystemInfoStream, nullptr, &stream, &size));
  EXPECT_EQ(GetLastError(), DWORD{ERROR_FILE_CORRUPT});
  munmap(small, page);
  close(fd);
}

TEST(MiniDumpApi, CancelFailsWithHresultAndLeavesNoDump) {
  Fixture f;
  Answers a;
  a.cancel = true;
  SetLastError(0);
  EXPECT_FALSE(f.dump(MiniDumpWithFullMemory, a));
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), HRESULT_FROM_WIN32(ERROR_CANCELLED));
  auto bytes = file_bytes(f.path);
  EXPECT_TRUE(bytes.size() < 4 || std::memcmp(bytes.data(), "MDMP", 4) != 0);
}

TEST(MiniDumpApi, VmPostReadRedactsTheHeapSecret) {
  Fixture f;
  const auto& secret = f.target->report()["markers"]["secret"];
  std::string text = secret["text"];
  Answers a;
  a.redact = text;
  ASSERT_TRUE(f.dump(MiniDumpWithFullMemory, a)) << std::hex << GetLastError();
  EXPECT_NE(std::find(a.types.begin(), a.types.end(), ULONG{VmPostReadCallback}), a.types.end());
  EXPECT_FALSE(contains(file_bytes(f.path), text));
  auto d = snapdump::testing::read_dump(f.path);
  std::string got(text.size(), '\0');
  ASSERT_EQ(d.read_memory(snapdump::testing::parse_address(secret["addr"]),
                          std::span<uint8_t>(reinterpret_cast<uint8_t*>(got.data()), got.size())),
            got.size());
  EXPECT_EQ(got, std::string(text.size(), 'X'));
}

TEST(MiniDumpApi, FailuresAreFalseWithAnHresult) {
  Fixture f;
  // No file and no callback to take the bytes.
  SetLastError(0);
  EXPECT_FALSE(MiniDumpWriteDump(f.process, 0, nullptr, MiniDumpNormal, nullptr, nullptr, nullptr));
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
  // The callback claims a snapshot, but hProcess is a process handle.
  Answers a;
  MINIDUMP_CALLBACK_INFORMATION info{callback, &a};
  EXPECT_FALSE(MiniDumpWriteDump(f.process, 0, f.file, MiniDumpNormal, nullptr, nullptr, &info));
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), HRESULT_FROM_WIN32(ERROR_INVALID_HANDLE));
  // A ProcessId that is not the handle's process.
  EXPECT_FALSE(MiniDumpWriteDump(f.process, static_cast<DWORD>(getpid()), f.file, MiniDumpNormal, nullptr, nullptr,
                                 nullptr));
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), E_INVALIDARG);
  // A type with bits MINIDUMP_TYPE does not have.
  EXPECT_FALSE(MiniDumpWriteDump(f.process, 0, f.file, static_cast<MINIDUMP_TYPE>(0x40000000), nullptr, nullptr,
                                 nullptr));
  EXPECT_TRUE(FAILED(static_cast<HRESULT>(GetLastError())));
  EXPECT_EQ(HRESULT_FACILITY(static_cast<HRESULT>(GetLastError())), FACILITY_WIN32);
  // A live target that has exited.
  HANDLE process = f.process;
  f.target.reset();
  EXPECT_FALSE(MiniDumpWriteDump(process, 0, f.file, MiniDumpNormal, nullptr, nullptr, nullptr));
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER));
}

TEST(MiniDumpApi, ExceptionAndUserStreamsAreWritten) {
  Fixture f;
  CONTEXT context{};
  context.ContextFlags = CONTEXT_CONTROL;
  context.Rip = 0x1234;
  EXCEPTION_RECORD record{};
  record.ExceptionCode = 11;  // SIGSEGV
  record.ExceptionAddress = reinterpret_cast<PVOID>(0xdead0000);
  record.NumberParameters = 1;
  record.ExceptionInformation[0] = 1;  // SEGV_MAPERR
  EXCEPTION_POINTERS pointers{&record, &context};
  MINIDUMP_EXCEPTION_INFORMATION exception{f.tid(0), &pointers, FALSE};
  char note[] = "user stream bytes";
  MINIDUMP_USER_STREAM user{0x10001, sizeof note, note};
  MINIDUMP_USER_STREAM_INFORMATION streams{1, &user};
  Answers a;
  MINIDUMP_CALLBACK_INFORMATION info{callback, &a};
  ASSERT_TRUE(MiniDumpWriteDump(f.snapshot, 0, f.file, MiniDumpNormal, &exception, &streams, &info))
      << std::hex << GetLastError();
  auto d = snapdump::testing::read_dump(f.path);
  EXPECT_TRUE(d.problems().empty());
  auto user_stream = d.stream(0x10001);
  ASSERT_TRUE(user_stream.has_value());
  EXPECT_EQ(std::string(user_stream->begin(), user_stream->end()), std::string(note, sizeof note));
  auto exceptions = d.exceptions();
  ASSERT_EQ(exceptions.size(), 1u);
  const auto& e = exceptions[0];
  EXPECT_EQ(e.tid, f.tid(0));
  EXPECT_EQ(e.code, 11u);
  EXPECT_EQ(e.address, 0xdead0000u);
  ASSERT_TRUE(e.context.has_value());
  EXPECT_EQ(e.context->rip, 0x1234u);  // the caller's ContextRecord, not the thread's registers
  // A NULL ExceptionPointers is refused as Windows refuses it.
  MINIDUMP_EXCEPTION_INFORMATION bad{f.tid(0), nullptr, FALSE};
  EXPECT_FALSE(MiniDumpWriteDump(f.snapshot, 0, f.file, MiniDumpNormal, &bad, nullptr, &info));
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), E_INVALIDARG);
}

}  // namespace

namespace {

TEST(MiniDumpApi, TheCallingProcessDumpsItself) {
  // The in-process crash-handler call: GetCurrentProcess() with an exception record of this
  // thread. A forked helper captures this process; the calling thread is in the dump.
  std::string path = snapdump::testing::temp_dump_path("win-self");
  HANDLE file = CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_NE(file, INVALID_HANDLE_VALUE);
  EXCEPTION_RECORD record{};
  record.ExceptionCode = 6;  // SIGABRT
  EXCEPTION_POINTERS pointers{&record, nullptr};
  MINIDUMP_EXCEPTION_INFORMATION exception{GetCurrentThreadId(), &pointers, FALSE};
  ASSERT_TRUE(MiniDumpWriteDump(GetCurrentProcess(), GetCurrentProcessId(), file, MiniDumpWithThreadInfo, &exception,
                                nullptr, nullptr))
      << std::hex << GetLastError();
  CloseHandle(file);
  auto d = snapdump::testing::read_dump(path);
  auto threads = d.threads();
  EXPECT_TRUE(std::any_of(threads.begin(), threads.end(), [](const auto& t) { return t.tid == GetCurrentThreadId(); }));
  ASSERT_EQ(d.exceptions().size(), 1u);
  EXPECT_EQ(d.exceptions()[0].tid, GetCurrentThreadId());
  EXPECT_EQ(d.exceptions()[0].code, 6u);
  auto misc = d.misc_info();
  ASSERT_TRUE(misc.has_value());
  EXPECT_EQ(misc->pid, GetCurrentProcessId());  // this process, not the helper

  // ClientPointers: the pointers are read from the target's memory as captured, here this
  // process's own.
  file = CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  record.ExceptionCode = 7;  // SIGBUS
  exception.ClientPointers = TRUE;
  ASSERT_TRUE(MiniDumpWriteDump(GetCurrentProcess(), 0, file, MiniDumpNormal, &exception, nullptr, nullptr))
      << std::hex << GetLastError();
  CloseHandle(file);
  auto client = snapdump::testing::read_dump(path);
  ASSERT_EQ(client.exceptions().size(), 1u);
  EXPECT_EQ(client.exceptions()[0].code, 7u);
  std::filesystem::remove(path);
}

}  // namespace

namespace {

using snapdump::testing::parse_address;

size_t count_of(const Answers& a, ULONG type) {
  return static_cast<size_t>(std::count(a.types.begin(), a.types.end(), type));
}

TEST(MiniDumpApi, ReadMemoryFailureSkipsTheRangeOrFailsTheDump) {
  // A mapping that runs two pages past its file's end: a full dump's read fails there.
  Fixture f({"--threads", "1", "--truncated-mapping"});
  const auto& m = f.target->report()["mappings"][0];
  ASSERT_EQ(m["kind"], "truncated_file");
  uint64_t start = parse_address(m["start"]);
  uint64_t size = m["size"].get<uint64_t>();
  uint64_t readable = m["readable"].get<uint64_t>();
  Answers skip;
  skip.read_failure = S_OK;  // leave the bytes out and go on
  ASSERT_TRUE(f.dump(MiniDumpWithFullMemory, skip)) << std::hex << GetLastError();
  ASSERT_EQ(skip.read_failures.size(), 1u);
  EXPECT_EQ(skip.read_failures[0].Offset, start + readable);
  EXPECT_GT(skip.read_failures[0].Bytes, 0u);
  EXPECT_LE(skip.read_failures[0].Bytes, size - readable);
  EXPECT_TRUE(FAILED(skip.read_failures[0].FailureStatus));
  auto d = snapdump::testing::read_dump(f.path);
  EXPECT_TRUE(d.problems().empty());
  std::vector<uint8_t> bytes(size);
  EXPECT_EQ(d.read_memory(start, bytes), readable);  // the readable page is kept, the tail left out
  EXPECT_EQ(bytes[0], 0x5C);
  for (const auto& r : d.memory()) {
    EXPECT_FALSE(r.address < start + size && r.address + r.bytes.size() > start + readable)
        << std::hex << r.address << " holds bytes of the unreadable tail";
  }

  // Any other answer fails the dump: FALSE, an HRESULT, and no dump in the file.
  std::string second = f.path + ".2";
  HANDLE file = CreateFileA(second.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  Answers refuse;
  refuse.read_failure = E_FAIL;
  SetLastError(0);
  EXPECT_FALSE(f.dump(MiniDumpWithFullMemory, refuse, file));
  HRESULT error = static_cast<HRESULT>(GetLastError());
  EXPECT_TRUE(FAILED(error)) << std::hex << error;
  // What ReadProcessMemory says of such memory, as DbgHelp reports it (0x8007012B).
  EXPECT_EQ(error, HRESULT_FROM_WIN32(ERROR_PARTIAL_COPY)) << std::hex << error;
  EXPECT_EQ(refuse.read_failures.size(), 1u);
  EXPECT_EQ(count_of(refuse, IoFinishCallback), 0u);
  CloseHandle(file);
  EXPECT_EQ(std::filesystem::file_size(second), 0u);  // truncated back to where the dump began
  std::filesystem::remove(second);
}

TEST(MiniDumpApi, VmQueryAnswerIsTheMemoryInfoOfItsRegion) {
  Fixture f;
  uint64_t heap = parse_address(f.target->report()["heap"]["addr"]);
  // The heap's region as the dump describes it without callbacks.
  Answers plain;
  ASSERT_TRUE(f.dump(MiniDumpWithFullMemoryInfo, plain)) << std::hex << GetLastError();
  EXPECT_EQ(count_of(plain, VmQueryCallback), 0u);  // VmStart not accepted: never asked
  auto plain_dump = snapdump::testing::read_dump(f.path);
  auto before = plain_dump.memory_info();
  // The MemoryInfoList splits mappings where the dump's ranges begin and end; VmQuery is asked
  // once per mapping, a line of LinuxMaps.
  auto maps = plain_dump.text_stream(static_cast<uint32_t>(snapdump::format::StreamType::LinuxMaps));
  ASSERT_TRUE(maps.has_value());
  size_t mappings = static_cast<size_t>(std::count(maps->begin(), maps->end(), '\n'));
  auto region = std::find_if(before.begin(), before.end(),
                             [&](const auto& i) { return i.base <= heap && heap < i.base + i.size; });
  ASSERT_NE(region, before.end());
  ASSERT_EQ(region->protect, ULONG{PAGE_READWRITE});
  ASSERT_GT(region->size, 4096u);

  Answers a;
  a.vm = true;
  a.query_base = region->base;
  a.query_protect = PAGE_READONLY;
  auto d = f.dump_to_new_file(MiniDumpWithFullMemoryInfo, a);
  ASSERT_TRUE(d.has_value()) << std::hex << GetLastError();
  EXPECT_EQ(count_of(a, VmQueryCallback), mappings);  // once per region
  auto infos = d->memory_info();
  auto it = std::find_if(infos.begin(), infos.end(), [&](const auto& i) { return i.base == region->base; });
  ASSERT_NE(it, infos.end());
  EXPECT_EQ(it->protect, ULONG{PAGE_READONLY});
  EXPECT_EQ(it->allocation_protect, ULONG{PAGE_READONLY});
  EXPECT_EQ(it->size, 4096u);
  EXPECT_EQ(it->type, ULONG{MEM_PRIVATE});
  // The regions the callback did not answer keep the snapshot's description.
  for (const auto& i : before) {
    if (i.base == region->base) continue;
    auto same = std::find_if(infos.begin(), infos.end(), [&](const auto& j) { return j.base == i.base; });
    ASSERT_NE(same, infos.end()) << std::hex << i.base;
    EXPECT_EQ(same->protect, i.protect) << std::hex << i.base;
    EXPECT_EQ(same->size, i.size) << std::hex << i.base;
  }
}

TEST(MiniDumpApi, VmPreReadSuppliesTheBytesItCompletes) {
  Fixture f;
  uint64_t heap = parse_address(f.target->report()["heap"]["addr"]);
  Answers a;
  a.vm = true;
  a.add_base = heap;  // MemoryCallback adds 64 heap bytes: a read the writer makes at `heap`
  a.add_size = 64;
  a.fill_base = heap;
  a.fill_bytes = 32;  // the callback completes the first half; the writer reads the rest
  ASSERT_TRUE(f.dump(MiniDumpNormal, a)) << std::hex << GetLastError();
  EXPECT_GT(count_of(a, VmPreReadCallback), 0u);
  auto d = snapdump::testing::read_dump(f.path);
  std::vector<uint8_t> got(64);
  ASSERT_EQ(d.read_memory(heap, got), got.size());
  EXPECT_TRUE(std::all_of(got.begin(), got.begin() + 32, [](uint8_t b) { return b == 0xAB; }));
  for (uint64_t offset = 32; offset < 64; offset += 8) {
    uint64_t word = 0;
    std::memcpy(&word, got.data() + offset, 8);
    EXPECT_EQ(word, snapdump::testing::expected_heap_word(offset)) << offset;
  }
}

TEST(MiniDumpApi, SecondaryFlagsWithoutPowerInfoDropsTheProcessorPowerFields) {
  Fixture f;
  Answers plain;
  ASSERT_TRUE(f.dump(MiniDumpNormal, plain)) << std::hex << GetLastError();
  EXPECT_EQ(plain.secondary_in, 0u);
  auto misc = snapdump::testing::read_dump(f.path).misc_info();
  ASSERT_TRUE(misc.has_value());
  EXPECT_TRUE(misc->flags1 & MINIDUMP_MISC1_PROCESSOR_POWER_INFO);

  Answers a;
  a.secondary = MiniSecondaryWithoutPowerInfo;
  auto d = f.dump_to_new_file(MiniDumpNormal, a);
  ASSERT_TRUE(d.has_value()) << std::hex << GetLastError();
  auto without = d->misc_info();
  ASSERT_TRUE(without.has_value());
  EXPECT_FALSE(without->flags1 & MINIDUMP_MISC1_PROCESSOR_POWER_INFO);
  EXPECT_EQ(without->flags1 & ~ULONG{MINIDUMP_MISC1_PROCESSOR_POWER_INFO}, misc->flags1 & ~ULONG{MINIDUMP_MISC1_PROCESSOR_POWER_INFO});

  // A flag MINIDUMP_SECONDARY_FLAGS does not have fails the dump.
  Answers bad;
  bad.secondary = 0x80;
  SetLastError(0);
  EXPECT_FALSE(f.dump_to_new_file(MiniDumpNormal, bad).has_value());
  EXPECT_EQ(static_cast<HRESULT>(GetLastError()), HRESULT_FROM_WIN32(ERROR_INVALID_PARAMETER)) << std::hex
                                                                                              << GetLastError();
}

TEST(MiniDumpApi, ThreadExCallbackIsNeverSent) {
  Fixture f;
  for (MINIDUMP_TYPE type : {MiniDumpNormal, MiniDumpWithFullMemory,
                             static_cast<MINIDUMP_TYPE>(MiniDumpWithThreadInfo | MiniDumpWithProcessThreadData)}) {
    Answers a;
    auto d = f.dump_to_new_file(type, a);
    ASSERT_TRUE(d.has_value()) << std::hex << GetLastError();
    EXPECT_EQ(count_of(a, ThreadExCallback), 0u) << type;
    // x86-64 has no backing store: every thread comes through ThreadCallback instead.
    EXPECT_EQ(count_of(a, ThreadCallback), d->threads().size()) << type;
  }
}

}  // namespace
