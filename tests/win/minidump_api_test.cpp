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
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/reader.h"
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
      if (!a->redact.empty()) out->Status = S_FALSE;
      break;
    case VmPostReadCallback: {
      auto* bytes = static_cast<char*>(in->VmPostRead.Buffer);
      auto* end = bytes + in->VmPostRead.Completed;
      for (char* at = bytes; (at = std::search(at, end, a->redact.begin(), a->redact.end())) != end;)
        std::fill_n(at, a->redact.size(), 'X');
      break;
    }
  }
  return TRUE;
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

bool contains(const std::vector<uint8_t>& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// A target, its snapshot (HPSS as the seed captures it) and an output file.
struct Fixture {
  std::unique_ptr<TargetProcess> target = TargetProcess::spawn({"--threads", "3", "--heap-mib", "2"});
  HANDLE process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, static_cast<DWORD>(target->pid()));
  HPSS snapshot = nullptr;
  std::string path = snapdump::testing::temp_dump_path("win-api");
  HANDLE file = CreateFileA(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  explicit Fixture(DWORD flags = PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT |
                                 PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION |
                                 PSS_CAPTURE_HANDLES) {
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
  auto d = snapdump::reader::Minidump::open(f.path);
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
  auto modules = snapdump::reader::Minidump::open(f.path).modules();
  auto it = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.name == exe; });
  ASSERT_NE(it, modules.end());

  Answers a;
  a.add_base = address;
  a.add_size = static_cast<ULONG>(text.size());
  a.exclude_module = it->base;
  // A second file: the first handle's position is past the first dump (as on Windows, a dump
  // is written at the file's current position).
  std::string second = f.path + ".2";
  HANDLE file = CreateFileA(second.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_TRUE(f.dump(MiniDumpNormal, a, file)) << std::hex << GetLastError();
  CloseHandle(file);
  auto d = snapdump::reader::Minidump::open(second);
  std::filesystem::remove(second);
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
  auto d = snapdump::reader::Minidump::open(f.path);
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
  auto d = snapdump::reader::Minidump::open(f.path);
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
  auto d = snapdump::reader::Minidump::open(f.path);
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
  auto d = snapdump::reader::Minidump::open(path);
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
  auto client = snapdump::reader::Minidump::open(path);
  ASSERT_EQ(client.exceptions().size(), 1u);
  EXPECT_EQ(client.exceptions()[0].code, 7u);
  std::filesystem::remove(path);
}

}  // namespace
