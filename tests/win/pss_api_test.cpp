// The PSS functions of processsnapshot.h against real targets: counts, thread ids, handle
// names and types, VA space entries, walk markers, and the Win32 error codes of each failure.
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/target_process.h"
#include "win/headers_c.h"
#include "win/wide.h"

#include <processsnapshot.h>

namespace {

using snapdump::testing::TargetProcess;

constexpr DWORD kFullFlags = PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT |
                             PSS_CAPTURE_HANDLES | PSS_CAPTURE_HANDLE_NAME_INFORMATION |
                             PSS_CAPTURE_HANDLE_BASIC_INFORMATION | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION |
                             PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION;

std::set<DWORD> tasks_of(pid_t pid) {
  std::set<DWORD> tids;
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/task").c_str());
  while (dirent* e = dir ? readdir(dir) : nullptr) {
    if (e->d_name[0] != '.') tids.insert(static_cast<DWORD>(std::stoul(e->d_name)));
  }
  if (dir) closedir(dir);
  return tids;
}

std::string text(const wchar_t* s, WORD bytes) {
  return s ? snapdump::win::narrow(std::wstring_view(s, bytes / sizeof(wchar_t))) : std::string();
}

struct Capture {
  HANDLE process = nullptr;
  HPSS snapshot = nullptr;
  HPSSWALK marker = nullptr;
  Capture(pid_t pid, DWORD flags) {
    process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, static_cast<DWORD>(pid));
    EXPECT_NE(process, nullptr);
    EXPECT_EQ(PssCaptureSnapshot(process, static_cast<PSS_CAPTURE_FLAGS>(flags), CONTEXT_ALL, &snapshot),
              DWORD{ERROR_SUCCESS});
    EXPECT_EQ(PssWalkMarkerCreate(nullptr, &marker), DWORD{ERROR_SUCCESS});
  }
  ~Capture() {
    EXPECT_EQ(PssWalkMarkerFree(marker), DWORD{ERROR_SUCCESS});
    EXPECT_EQ(PssFreeSnapshot(GetCurrentProcess(), snapshot), DWORD{ERROR_SUCCESS});
    EXPECT_TRUE(CloseHandle(process));
  }
  template <class Entry>
  std::vector<Entry> walk(PSS_WALK_INFORMATION_CLASS what) {
    std::vector<Entry> entries;
    Entry e;
    DWORD error;
    while ((error = PssWalkSnapshot(snapshot, what, marker, &e, sizeof e)) == ERROR_SUCCESS) entries.push_back(e);
    EXPECT_EQ(error, DWORD{ERROR_NO_MORE_ITEMS});
    PssWalkMarkerSeekToBeginning(marker);
    return entries;
  }
};

TEST(PssApi, ThreadsAreTheTargetsTasksWithContexts) {
  auto target = TargetProcess::spawn({"--threads", "3", "--heap-mib", "1"});
  Capture c(target->pid(), kFullFlags);
  std::set<DWORD> expected = tasks_of(target->pid());
  PSS_THREAD_INFORMATION info{};
  ASSERT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_THREAD_INFORMATION, &info, sizeof info), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(info.ThreadsCaptured, expected.size());
  EXPECT_EQ(info.ContextLength, sizeof(CONTEXT));
  std::set<DWORD> walked;
  for (const PSS_THREAD_ENTRY& t : c.walk<PSS_THREAD_ENTRY>(PSS_WALK_THREADS)) {
    walked.insert(t.ThreadId);
    EXPECT_EQ(t.ProcessId, static_cast<DWORD>(target->pid()));
    EXPECT_EQ(t.ExitStatus, DWORD{STILL_ACTIVE});
    ASSERT_NE(t.ContextRecord, nullptr);
    EXPECT_EQ(t.SizeOfContextRecord, sizeof(CONTEXT));
    EXPECT_EQ(t.ContextRecord->ContextFlags & CONTEXT_AMD64, DWORD{CONTEXT_AMD64});
    EXPECT_NE(t.ContextRecord->Rip, 0u);
    EXPECT_NE(t.ContextRecord->Rsp, 0u);
    EXPECT_NE(t.TebBaseAddress, nullptr);  // fs_base
  }
  EXPECT_EQ(walked, expected);
  // Every tid the target reports is among them, each started where the target says.
  auto threads = c.walk<PSS_THREAD_ENTRY>(PSS_WALK_THREADS);
  for (const auto& rt : target->report()["threads"]) {
    EXPECT_TRUE(walked.count(rt["tid"].get<DWORD>())) << rt;
    std::string fn = rt["function"].get<std::string>();
    if (fn == "main") continue;
    for (const PSS_THREAD_ENTRY& t : threads) {
      if (t.ThreadId != rt["tid"].get<DWORD>()) continue;
      EXPECT_EQ(reinterpret_cast<uint64_t>(t.Win32StartAddress),
                snapdump::testing::parse_address(target->report()["functions"][fn]))
          << fn;
    }
  }
}

TEST(PssApi, HandlesAreTheTargetsFdsWithNamesAndTypes) {
  auto target = TargetProcess::spawn({"--fds", "--threads", "1", "--heap-mib", "1"});
  Capture c(target->pid(), kFullFlags);
  auto handles = c.walk<PSS_HANDLE_ENTRY>(PSS_WALK_HANDLES);
  PSS_HANDLE_INFORMATION info{};
  ASSERT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_HANDLE_INFORMATION, &info, sizeof info), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(info.HandlesCaptured, handles.size());
  auto find = [&](int fd) -> const PSS_HANDLE_ENTRY* {
    for (const auto& h : handles)
      if (reinterpret_cast<intptr_t>(h.Handle) == fd) return &h;
    return nullptr;
  };
  ASSERT_FALSE(target->report()["fds"].empty());
  for (const auto& f : target->report()["fds"]) {
    const PSS_HANDLE_ENTRY* h = find(f["fd"].get<int>());
    ASSERT_NE(h, nullptr) << f;
    EXPECT_TRUE(h->Flags & PSS_HANDLE_HAVE_NAME);
    EXPECT_TRUE(h->Flags & PSS_HANDLE_HAVE_TYPE);
    EXPECT_TRUE(h->Flags & PSS_HANDLE_HAVE_BASIC_INFORMATION);
    EXPECT_EQ(text(h->ObjectName, h->ObjectNameLength).rfind(f["link_prefix"].get<std::string>(), 0), 0u)
        << text(h->ObjectName, h->ObjectNameLength) << " vs " << f;
    EXPECT_FALSE(text(h->TypeName, h->TypeNameLength).empty());
    std::string kind = f["kind"];
    if (kind == "pidfd") {
      EXPECT_EQ(h->ObjectType, PSS_OBJECT_TYPE_PROCESS);
      EXPECT_EQ(h->TypeSpecificInformation.Process.ProcessId, f["pid"].get<DWORD>());
    } else if (kind == "eventfd") {
      EXPECT_EQ(h->ObjectType, PSS_OBJECT_TYPE_EVENT);
      EXPECT_TRUE(h->TypeSpecificInformation.Event.Signaled);  // count 42
    } else if (kind == "file") {
      EXPECT_EQ(text(h->TypeName, h->TypeNameLength), "File");
      EXPECT_EQ(text(h->ObjectName, h->ObjectNameLength), f["path"].get<std::string>());
    }
  }
}

TEST(PssApi, VaSpaceEntriesAreTheTargetsMappings) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "1"});
  Capture c(target->pid(), kFullFlags);
  // The target is parked: its maps do not change around the capture.
  std::ifstream maps("/proc/" + std::to_string(target->pid()) + "/maps");
  std::set<uint64_t> starts;
  for (std::string line; std::getline(maps, line);) {
    if (line.find("[vsyscall]") == std::string::npos) starts.insert(std::stoull(line.substr(0, line.find('-')), nullptr, 16));
  }
  auto regions = c.walk<PSS_VA_SPACE_ENTRY>(PSS_WALK_VA_SPACE);
  PSS_VA_SPACE_INFORMATION info{};
  ASSERT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_VA_SPACE_INFORMATION, &info, sizeof info), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(info.RegionCount, regions.size());
  bool found_exe = false;
  std::string exe = snapdump::testing::target_path();
  uint64_t previous = 0;
  for (const auto& r : regions) {
    auto base = reinterpret_cast<uint64_t>(r.BaseAddress);
    EXPECT_GT(base, previous);
    previous = base;
    EXPECT_EQ(r.State, DWORD{MEM_COMMIT});
    EXPECT_GT(r.RegionSize, 0u);
    if (base < 0xffffffffff600000ull) {
      EXPECT_TRUE(starts.count(base)) << std::hex << base;
    }
    if (text(r.MappedFileName, r.MappedFileNameLength) == exe) {
      found_exe = true;
      EXPECT_EQ(r.Type, DWORD{MEM_IMAGE});
      EXPECT_NE(r.ImageBase, nullptr);
      EXPECT_EQ(r.AllocationBase, r.ImageBase);
    }
  }
  EXPECT_TRUE(found_exe) << exe;
}

TEST(PssApi, WalkMarkersQueriesAndDuplicates) {
  auto target = TargetProcess::spawn({"--threads", "2", "--heap-mib", "1"});
  Capture c(target->pid(), PSS_CAPTURE_THREADS | PSS_CREATE_MEASURE_PERFORMANCE | PSS_CAPTURE_VA_CLONE);
  PSS_THREAD_ENTRY t;
  ASSERT_EQ(PssWalkSnapshot(c.snapshot, PSS_WALK_THREADS, c.marker, nullptr, 0), DWORD{ERROR_MORE_DATA});
  ASSERT_EQ(PssWalkSnapshot(c.snapshot, PSS_WALK_THREADS, c.marker, &t, sizeof t - 1), DWORD{ERROR_BAD_LENGTH});
  ASSERT_EQ(PssWalkSnapshot(c.snapshot, PSS_WALK_THREADS, c.marker, &t, sizeof t), DWORD{ERROR_SUCCESS});
  DWORD first = t.ThreadId;
  EXPECT_EQ(t.ContextRecord, nullptr);  // no PSS_CAPTURE_THREAD_CONTEXT
  ULONG_PTR position = 0;
  ASSERT_EQ(PssWalkMarkerGetPosition(c.marker, &position), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(position, 1u);
  ASSERT_EQ(PssWalkMarkerSetPosition(c.marker, 0), DWORD{ERROR_SUCCESS});
  ASSERT_EQ(PssWalkSnapshot(c.snapshot, PSS_WALK_THREADS, c.marker, &t, sizeof t), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(t.ThreadId, first);
  PssWalkMarkerSeekToBeginning(c.marker);
  PSS_HANDLE_ENTRY h;
  EXPECT_EQ(PssWalkSnapshot(c.snapshot, PSS_WALK_HANDLES, c.marker, &h, sizeof h), DWORD{ERROR_NOT_FOUND});
  // A class no SDK defines, from C++ (the enum has a fixed int type: any int is a value of it)
  // and from C (where an enum is an int).
  EXPECT_EQ(PssWalkSnapshot(c.snapshot, static_cast<PSS_WALK_INFORMATION_CLASS>(9), c.marker, &h, sizeof h),
            DWORD{ERROR_INVALID_PARAMETER});
  EXPECT_EQ(snapdump_win_c_walk_class(c.snapshot, 9, c.marker, &h, sizeof h), DWORD{ERROR_INVALID_PARAMETER});
  EXPECT_EQ(snapdump_win_c_walk_class(c.snapshot, -1, c.marker, &h, sizeof h), DWORD{ERROR_INVALID_PARAMETER});

  PSS_PROCESS_INFORMATION p{};
  EXPECT_EQ(snapdump_win_c_query_class(c.snapshot, 99, &p, sizeof p), DWORD{ERROR_INVALID_PARAMETER});
  ASSERT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_PROCESS_INFORMATION, &p, sizeof p), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(p.ProcessId, static_cast<DWORD>(target->pid()));
  EXPECT_EQ(p.ParentProcessId, static_cast<DWORD>(getpid()));
  EXPECT_EQ(p.ExitStatus, DWORD{STILL_ACTIVE});
  EXPECT_EQ(snapdump::win::narrow(p.ImageFileName), snapdump::testing::target_path());
  EXPECT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_PROCESS_INFORMATION, &p, sizeof p - 4), DWORD{ERROR_BAD_LENGTH});
  PSS_VA_CLONE_INFORMATION clone{};
  ASSERT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_VA_CLONE_INFORMATION, &clone, sizeof clone), DWORD{ERROR_SUCCESS});
  DWORD clone_pid = GetProcessId(clone.VaCloneHandle);
  EXPECT_NE(clone_pid, 0u);
  EXPECT_NE(clone_pid, static_cast<DWORD>(target->pid()));
  PSS_PERFORMANCE_COUNTERS perf{};
  ASSERT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_PERFORMANCE_COUNTERS, &perf, sizeof perf), DWORD{ERROR_SUCCESS});
  EXPECT_GT(perf.TotalWallClockPeriod + perf.TotalCycleCount, 0u);
  PSS_VA_SPACE_INFORMATION va{};
  EXPECT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_VA_SPACE_INFORMATION, &va, sizeof va), DWORD{ERROR_NOT_FOUND});
  PSS_HANDLE_TRACE_INFORMATION trace{};
  EXPECT_EQ(PssQuerySnapshot(c.snapshot, PSS_QUERY_HANDLE_TRACE_INFORMATION, &trace, sizeof trace),
            DWORD{ERROR_NOT_FOUND});

  HPSS copy = nullptr;
  EXPECT_EQ(PssDuplicateSnapshot(GetCurrentProcess(), c.snapshot, GetCurrentProcess(), &copy,
                                 static_cast<PSS_DUPLICATE_FLAGS>(2)),
            DWORD{ERROR_INVALID_PARAMETER});
  EXPECT_EQ(copy, nullptr);
  ASSERT_EQ(PssDuplicateSnapshot(GetCurrentProcess(), c.snapshot, GetCurrentProcess(), &copy, PSS_DUPLICATE_NONE),
            DWORD{ERROR_SUCCESS});
  PSS_THREAD_INFORMATION a{}, b{};
  PssQuerySnapshot(c.snapshot, PSS_QUERY_THREAD_INFORMATION, &a, sizeof a);
  PssQuerySnapshot(copy, PSS_QUERY_THREAD_INFORMATION, &b, sizeof b);
  EXPECT_EQ(a.ThreadsCaptured, b.ThreadsCaptured);
  EXPECT_EQ(PssFreeSnapshot(GetCurrentProcess(), copy), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(PssFreeSnapshot(GetCurrentProcess(), copy), DWORD{ERROR_INVALID_HANDLE});
}

struct CountingAllocator {
  int allocs = 0, frees = 0;
  static void* WINAPI alloc(void* context, DWORD size) {
    ++static_cast<CountingAllocator*>(context)->allocs;
    return std::aligned_alloc(16, (size + 15) & ~15u);
  }
  static void WINAPI release(void* context, void* address) {
    ++static_cast<CountingAllocator*>(context)->frees;
    std::free(address);
  }
};

TEST(PssApi, WalkEntriesUseTheCallersAllocator) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "1"});
  HANDLE process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, static_cast<DWORD>(target->pid()));
  HPSS snapshot = nullptr;
  ASSERT_EQ(PssCaptureSnapshot(process, PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT, CONTEXT_ALL, &snapshot),
            DWORD{ERROR_SUCCESS});
  CountingAllocator counter;
  PSS_ALLOCATOR allocator{&counter, &CountingAllocator::alloc, &CountingAllocator::release};
  HPSSWALK marker = nullptr;
  ASSERT_EQ(PssWalkMarkerCreate(&allocator, &marker), DWORD{ERROR_SUCCESS});
  PSS_THREAD_ENTRY t;
  int n = 0;
  while (PssWalkSnapshot(snapshot, PSS_WALK_THREADS, marker, &t, sizeof t) == ERROR_SUCCESS) ++n;
  EXPECT_EQ(counter.allocs, n);  // one CONTEXT per thread
  EXPECT_EQ(PssWalkMarkerFree(marker), DWORD{ERROR_SUCCESS});
  EXPECT_EQ(counter.frees, n);
  PssFreeSnapshot(GetCurrentProcess(), snapshot);
  CloseHandle(process);
}

TEST(PssApi, ErrorsAreWin32Codes) {
  // A PID that does not exist: a reaped child's.
  pid_t child = fork();
  if (child == 0) _exit(0);
  waitpid(child, nullptr, 0);
  SetLastError(0);
  EXPECT_EQ(OpenProcess(PROCESS_ALL_ACCESS, FALSE, static_cast<DWORD>(child)), nullptr);
  EXPECT_EQ(GetLastError(), DWORD{ERROR_INVALID_PARAMETER});

  // A process handle whose process has gone by the time of the capture.
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "1"});
  HANDLE process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, static_cast<DWORD>(target->pid()));
  ASSERT_NE(process, nullptr);
  HPSS snapshot = reinterpret_cast<HPSS>(1);
  EXPECT_EQ(PssCaptureSnapshot(process, PSS_CAPTURE_RESERVED_00000002, CONTEXT_ALL, &snapshot),
            DWORD{ERROR_INVALID_PARAMETER});
  EXPECT_EQ(snapshot, nullptr);
  EXPECT_EQ(PssCaptureSnapshot(nullptr, PSS_CAPTURE_THREADS, CONTEXT_ALL, &snapshot), DWORD{ERROR_INVALID_HANDLE});
  EXPECT_EQ(PssCaptureSnapshot(process, PSS_CAPTURE_THREADS, CONTEXT_ALL, nullptr), DWORD{ERROR_INVALID_PARAMETER});
  EXPECT_EQ(PssCaptureSnapshot(GetCurrentProcess(), PSS_CAPTURE_THREADS, CONTEXT_ALL, &snapshot),
            DWORD{ERROR_NOT_SUPPORTED});
  target.reset();  // exits and is reaped
  EXPECT_EQ(PssCaptureSnapshot(process, PSS_CAPTURE_THREADS, CONTEXT_ALL, &snapshot), DWORD{ERROR_INVALID_PARAMETER});
  EXPECT_TRUE(CloseHandle(process));
  EXPECT_FALSE(CloseHandle(process));
  EXPECT_EQ(GetLastError(), DWORD{ERROR_INVALID_HANDLE});

  PSS_THREAD_INFORMATION info;
  EXPECT_EQ(PssQuerySnapshot(nullptr, PSS_QUERY_THREAD_INFORMATION, &info, sizeof info), DWORD{ERROR_INVALID_HANDLE});
  EXPECT_EQ(PssFreeSnapshot(GetCurrentProcess(), reinterpret_cast<HPSS>(&info)), DWORD{ERROR_INVALID_HANDLE});
  EXPECT_EQ(PssWalkMarkerFree(nullptr), DWORD{ERROR_INVALID_HANDLE});
}

}  // namespace
