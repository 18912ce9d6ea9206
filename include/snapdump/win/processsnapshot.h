/* Process snapshotting (processsnapshot.h): PssCaptureSnapshot and friends with the names,
 * values and x64 layouts of the Windows SDK, implemented over snapdump::Snapshot. Every call
 * returns a Win32 error code (ERROR_SUCCESS on success); docs/win-api.md says what each field
 * holds on Linux. */
#ifndef SNAPDUMP_WIN_PROCESSSNAPSHOT_H
#define SNAPDUMP_WIN_PROCESSSNAPSHOT_H

#include "windows.h"

#ifdef __cplusplus
/* The SDK lets C++ combine flag enumerators with | and & and keep the enum type. */
#define SNAPDUMP_WIN_ENUM_FLAG_OPERATORS(E)                                                   \
  extern "C++" {                                                                               \
  inline constexpr E operator|(E a, E b) { return E((unsigned long long)a | (unsigned long long)b); } \
  inline constexpr E operator&(E a, E b) { return E((unsigned long long)a & (unsigned long long)b); } \
  inline constexpr E operator^(E a, E b) { return E((unsigned long long)a ^ (unsigned long long)b); } \
  inline constexpr E operator~(E a) { return E(~(unsigned long long)a); }                      \
  inline E& operator|=(E& a, E b) { return a = a | b; }                                        \
  inline E& operator&=(E& a, E b) { return a = a & b; }                                        \
  inline E& operator^=(E& a, E b) { return a = a ^ b; }                                        \
  }
#ifndef DEFINE_ENUM_FLAG_OPERATORS
#define DEFINE_ENUM_FLAG_OPERATORS(E) SNAPDUMP_WIN_ENUM_FLAG_OPERATORS(E)
#endif
#else
#define SNAPDUMP_WIN_ENUM_FLAG_OPERATORS(E)
#ifndef DEFINE_ENUM_FLAG_OPERATORS
#define DEFINE_ENUM_FLAG_OPERATORS(E)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The SDK declares these as distinct handle types (DECLARE_HANDLE). Here they are HANDLE: the
 * published samples store a snapshot in a HANDLE variable and pass its address as HPSS*
 * (seed 001 does), which C compilers reject as incompatible pointer types under -Werror. */
typedef HANDLE HPSS;
typedef HANDLE HPSSWALK;

typedef enum SNAPDUMP_WIN_FLAGS_ENUM {
  PSS_HANDLE_NONE = 0x00,
  PSS_HANDLE_HAVE_TYPE = 0x01,
  PSS_HANDLE_HAVE_NAME = 0x02,
  PSS_HANDLE_HAVE_BASIC_INFORMATION = 0x04,
  PSS_HANDLE_HAVE_TYPE_SPECIFIC_INFORMATION = 0x08
} PSS_HANDLE_FLAGS;

typedef enum SNAPDUMP_WIN_VALUE_ENUM {
  PSS_OBJECT_TYPE_UNKNOWN = 0,
  PSS_OBJECT_TYPE_PROCESS = 1,
  PSS_OBJECT_TYPE_THREAD = 2,
  PSS_OBJECT_TYPE_MUTANT = 3,
  PSS_OBJECT_TYPE_EVENT = 4,
  PSS_OBJECT_TYPE_SECTION = 5,
  PSS_OBJECT_TYPE_SEMAPHORE = 6
} PSS_OBJECT_TYPE;

/* 0x80000000 does not fit an int: in C the enum's type is unsigned int, as with MSVC's
 * DWORD-sized enums in practice (and in C++ it is fixed so). */
typedef enum SNAPDUMP_WIN_FLAGS_ENUM {
  PSS_CAPTURE_NONE = 0x00000000,
  PSS_CAPTURE_VA_CLONE = 0x00000001,
  PSS_CAPTURE_RESERVED_00000002 = 0x00000002,
  PSS_CAPTURE_HANDLES = 0x00000004,
  PSS_CAPTURE_HANDLE_NAME_INFORMATION = 0x00000008,
  PSS_CAPTURE_HANDLE_BASIC_INFORMATION = 0x00000010,
  PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION = 0x00000020,
  PSS_CAPTURE_HANDLE_TRACE = 0x00000040,
  PSS_CAPTURE_THREADS = 0x00000080,
  PSS_CAPTURE_THREAD_CONTEXT = 0x00000100,
  PSS_CAPTURE_THREAD_CONTEXT_EXTENDED = 0x00000200,
  PSS_CAPTURE_RESERVED_00000400 = 0x00000400,
  PSS_CAPTURE_VA_SPACE = 0x00000800,
  PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION = 0x00001000,
  PSS_CAPTURE_IPT_TRACE = 0x00002000,
  PSS_CAPTURE_RESERVED_00004000 = 0x00004000,
  PSS_CREATE_BREAKAWAY_OPTIONAL = 0x04000000,
  PSS_CREATE_BREAKAWAY = 0x08000000,
  PSS_CREATE_FORCE_BREAKAWAY = 0x10000000,
  PSS_CREATE_USE_VM_ALLOCATIONS = 0x20000000,
  PSS_CREATE_MEASURE_PERFORMANCE = 0x40000000,
  PSS_CREATE_RELEASE_SECTION = 0x80000000u
} PSS_CAPTURE_FLAGS;

typedef enum SNAPDUMP_WIN_VALUE_ENUM {
  PSS_QUERY_PROCESS_INFORMATION = 0,
  PSS_QUERY_VA_CLONE_INFORMATION = 1,
  PSS_QUERY_AUXILIARY_PAGES_INFORMATION = 2,
  PSS_QUERY_VA_SPACE_INFORMATION = 3,
  PSS_QUERY_HANDLE_INFORMATION = 4,
  PSS_QUERY_THREAD_INFORMATION = 5,
  PSS_QUERY_HANDLE_TRACE_INFORMATION = 6,
  PSS_QUERY_PERFORMANCE_COUNTERS = 7
} PSS_QUERY_INFORMATION_CLASS;

typedef enum SNAPDUMP_WIN_VALUE_ENUM {
  PSS_WALK_AUXILIARY_PAGES = 0,
  PSS_WALK_VA_SPACE = 1,
  PSS_WALK_HANDLES = 2,
  PSS_WALK_THREADS = 3
} PSS_WALK_INFORMATION_CLASS;

typedef enum SNAPDUMP_WIN_FLAGS_ENUM { PSS_DUPLICATE_NONE = 0x00, PSS_DUPLICATE_CLOSE_SOURCE = 0x01 } PSS_DUPLICATE_FLAGS;

typedef enum SNAPDUMP_WIN_FLAGS_ENUM {
  PSS_PROCESS_FLAGS_NONE = 0x00000000,
  PSS_PROCESS_FLAGS_PROTECTED = 0x00000001,
  PSS_PROCESS_FLAGS_WOW64 = 0x00000002,
  PSS_PROCESS_FLAGS_RESERVED_03 = 0x00000004,
  PSS_PROCESS_FLAGS_RESERVED_04 = 0x00000008,
  PSS_PROCESS_FLAGS_FROZEN = 0x00000010
} PSS_PROCESS_FLAGS;

typedef enum SNAPDUMP_WIN_FLAGS_ENUM { PSS_THREAD_FLAGS_NONE = 0x0000, PSS_THREAD_FLAGS_TERMINATED = 0x0001 } PSS_THREAD_FLAGS;

#define PSS_PERF_RESOLUTION 1000000

typedef struct {
  DWORD ExitStatus;
  void* PebBaseAddress;
  ULONG_PTR AffinityMask;
  LONG BasePriority;
  DWORD ProcessId;
  DWORD ParentProcessId;
  PSS_PROCESS_FLAGS Flags;
  FILETIME CreateTime;
  FILETIME ExitTime;
  FILETIME KernelTime;
  FILETIME UserTime;
  DWORD PriorityClass;
  ULONG_PTR PeakVirtualSize;
  ULONG_PTR VirtualSize;
  DWORD PageFaultCount;
  ULONG_PTR PeakWorkingSetSize;
  ULONG_PTR WorkingSetSize;
  ULONG_PTR QuotaPeakPagedPoolUsage;
  ULONG_PTR QuotaPagedPoolUsage;
  ULONG_PTR QuotaPeakNonPagedPoolUsage;
  ULONG_PTR QuotaNonPagedPoolUsage;
  ULONG_PTR PagefileUsage;
  ULONG_PTR PeakPagefileUsage;
  ULONG_PTR PrivateUsage;
  DWORD ExecuteFlags;
  wchar_t ImageFileName[MAX_PATH];
} PSS_PROCESS_INFORMATION;

typedef struct {
  HANDLE VaCloneHandle;
} PSS_VA_CLONE_INFORMATION;

typedef struct {
  DWORD AuxPagesCaptured;
} PSS_AUXILIARY_PAGES_INFORMATION;

typedef struct {
  DWORD RegionCount;
} PSS_VA_SPACE_INFORMATION;

typedef struct {
  DWORD HandlesCaptured;
} PSS_HANDLE_INFORMATION;

typedef struct {
  DWORD ThreadsCaptured;
  DWORD ContextLength;
} PSS_THREAD_INFORMATION;

typedef struct {
  HANDLE SectionHandle;
  DWORD Size;
} PSS_HANDLE_TRACE_INFORMATION;

typedef struct {
  UINT64 TotalCycleCount;
  UINT64 TotalWallClockPeriod;
  UINT64 VaCloneCycleCount;
  UINT64 VaCloneWallClockPeriod;
  UINT64 VaSpaceCycleCount;
  UINT64 VaSpaceWallClockPeriod;
  UINT64 AuxPagesCycleCount;
  UINT64 AuxPagesWallClockPeriod;
  UINT64 HandlesCycleCount;
  UINT64 HandlesWallClockPeriod;
  UINT64 ThreadsCycleCount;
  UINT64 ThreadsWallClockPeriod;
} PSS_PERFORMANCE_COUNTERS;

/* Pointers inside walk entries (PageContents, MappedFileName, TypeName, ObjectName,
 * ContextRecord) stay valid while the walk marker lives, as on Windows. */
typedef struct {
  void const* Address;
  MEMORY_BASIC_INFORMATION BasicInformation;
  FILETIME CaptureTime;
  void* PageContents;
  DWORD PageSize;
} PSS_AUXILIARY_PAGE_ENTRY;

typedef struct {
  void* BaseAddress;
  void* AllocationBase;
  DWORD AllocationProtect;
  ULONG_PTR RegionSize;
  DWORD State;
  DWORD Protect;
  DWORD Type;
  DWORD TimeDateStamp;
  DWORD SizeOfImage;
  void* ImageBase;
  DWORD CheckSum;
  WORD MappedFileNameLength; /* bytes, without a terminating NUL */
  wchar_t const* MappedFileName;
} PSS_VA_SPACE_ENTRY;

typedef struct {
  HANDLE Handle;
  PSS_HANDLE_FLAGS Flags;
  PSS_OBJECT_TYPE ObjectType;
  FILETIME CaptureTime;
  DWORD Attributes;
  DWORD GrantedAccess;
  DWORD HandleCount;
  DWORD PointerCount;
  DWORD PagedPoolCharge;
  DWORD NonPagedPoolCharge;
  FILETIME CreationTime;
  WORD TypeNameLength; /* bytes */
  wchar_t const* TypeName;
  WORD ObjectNameLength; /* bytes */
  wchar_t const* ObjectName;
  union {
    struct {
      DWORD ExitStatus;
      void* PebBaseAddress;
      ULONG_PTR AffinityMask;
      LONG BasePriority;
      DWORD ProcessId;
      DWORD ParentProcessId;
      DWORD Flags;
    } Process;
    struct {
      DWORD ExitStatus;
      void* TebBaseAddress;
      DWORD ProcessId;
      DWORD ThreadId;
      ULONG_PTR AffinityMask;
      int Priority;
      int BasePriority;
      void* Win32StartAddress;
    } Thread;
    struct {
      LONG CurrentCount;
      BOOL Abandoned;
      DWORD OwnerProcessId;
      DWORD OwnerThreadId;
    } Mutant;
    struct {
      BOOL ManualReset;
      BOOL Signaled;
    } Event;
    struct {
      void* BaseAddress;
      DWORD AllocationAttributes;
      LARGE_INTEGER MaximumSize;
    } Section;
    struct {
      LONG CurrentCount;
      LONG MaximumCount;
    } Semaphore;
  } TypeSpecificInformation;
} PSS_HANDLE_ENTRY;

typedef struct {
  DWORD ExitStatus;
  void* TebBaseAddress;
  DWORD ProcessId;
  DWORD ThreadId;
  ULONG_PTR AffinityMask;
  int Priority;
  int BasePriority;
  void* LastSyscallFirstArgument;
  WORD LastSyscallNumber;
  FILETIME CreateTime;
  FILETIME ExitTime;
  FILETIME KernelTime;
  FILETIME UserTime;
  void* Win32StartAddress;
  FILETIME CaptureTime;
  PSS_THREAD_FLAGS Flags;
  WORD SuspendCount;
  WORD SizeOfContextRecord;
  PCONTEXT ContextRecord;
} PSS_THREAD_ENTRY;

typedef struct {
  void* Context;
  void* (WINAPI* AllocRoutine)(void* Context, DWORD Size);
  void (WINAPI* FreeRoutine)(void* Context, void* Address);
} PSS_ALLOCATOR;

DWORD WINAPI PssCaptureSnapshot(HANDLE ProcessHandle, PSS_CAPTURE_FLAGS CaptureFlags,
                                DWORD ThreadContextFlags, HPSS* SnapshotHandle);
DWORD WINAPI PssFreeSnapshot(HANDLE ProcessHandle, HPSS SnapshotHandle);
DWORD WINAPI PssQuerySnapshot(HPSS SnapshotHandle, PSS_QUERY_INFORMATION_CLASS InformationClass,
                              void* Buffer, DWORD BufferLength);
DWORD WINAPI PssWalkSnapshot(HPSS SnapshotHandle, PSS_WALK_INFORMATION_CLASS InformationClass,
                             HPSSWALK WalkMarkerHandle, void* Buffer, DWORD BufferLength);
DWORD WINAPI PssDuplicateSnapshot(HANDLE SourceProcessHandle, HPSS SnapshotHandle,
                                  HANDLE TargetProcessHandle, HPSS* TargetSnapshotHandle,
                                  PSS_DUPLICATE_FLAGS Flags);
DWORD WINAPI PssWalkMarkerCreate(PSS_ALLOCATOR const* Allocator, HPSSWALK* WalkMarkerHandle);
DWORD WINAPI PssWalkMarkerFree(HPSSWALK WalkMarkerHandle);
DWORD WINAPI PssWalkMarkerGetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR* Position);
DWORD WINAPI PssWalkMarkerSetPosition(HPSSWALK WalkMarkerHandle, ULONG_PTR Position);
DWORD WINAPI PssWalkMarkerSeekToBeginning(HPSSWALK WalkMarkerHandle);

#ifdef __cplusplus
}
SNAPDUMP_WIN_ENUM_FLAG_OPERATORS(PSS_CAPTURE_FLAGS)
SNAPDUMP_WIN_ENUM_FLAG_OPERATORS(PSS_HANDLE_FLAGS)
#endif

/* The x64 layouts of the SDK (natural alignment). Structures ending in a wchar_t array are
 * larger than on Windows because wchar_t is 4 bytes here; the offsets before it match. */
#define SNAPDUMP_PSS_ASSERT(type, field, off) \
  SNAPDUMP_WIN_STATIC_ASSERT(offsetof(type, field) == (off), #type "." #field)
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, PebBaseAddress, 8);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, BasePriority, 24);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, Flags, 36);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, CreateTime, 40);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, PriorityClass, 72);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, PeakVirtualSize, 80);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, PageFaultCount, 96);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, PrivateUsage, 168);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, ExecuteFlags, 176);
SNAPDUMP_PSS_ASSERT(PSS_PROCESS_INFORMATION, ImageFileName, 180);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_VA_CLONE_INFORMATION) == 8, "PSS_VA_CLONE_INFORMATION");
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_THREAD_INFORMATION) == 8, "PSS_THREAD_INFORMATION");
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_HANDLE_TRACE_INFORMATION) == 16, "PSS_HANDLE_TRACE_INFORMATION");
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_PERFORMANCE_COUNTERS) == 96, "PSS_PERFORMANCE_COUNTERS");
SNAPDUMP_PSS_ASSERT(PSS_AUXILIARY_PAGE_ENTRY, BasicInformation, 8);
SNAPDUMP_PSS_ASSERT(PSS_AUXILIARY_PAGE_ENTRY, CaptureTime, 56);
SNAPDUMP_PSS_ASSERT(PSS_AUXILIARY_PAGE_ENTRY, PageContents, 64);
SNAPDUMP_PSS_ASSERT(PSS_AUXILIARY_PAGE_ENTRY, PageSize, 72);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_AUXILIARY_PAGE_ENTRY) == 80, "PSS_AUXILIARY_PAGE_ENTRY");
SNAPDUMP_PSS_ASSERT(PSS_VA_SPACE_ENTRY, RegionSize, 24);
SNAPDUMP_PSS_ASSERT(PSS_VA_SPACE_ENTRY, Type, 40);
SNAPDUMP_PSS_ASSERT(PSS_VA_SPACE_ENTRY, ImageBase, 56);
SNAPDUMP_PSS_ASSERT(PSS_VA_SPACE_ENTRY, MappedFileNameLength, 68);
SNAPDUMP_PSS_ASSERT(PSS_VA_SPACE_ENTRY, MappedFileName, 72);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_VA_SPACE_ENTRY) == 80, "PSS_VA_SPACE_ENTRY");
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, Flags, 8);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, CaptureTime, 16);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, GrantedAccess, 28);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, CreationTime, 48);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, TypeNameLength, 56);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, TypeName, 64);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, ObjectNameLength, 72);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, ObjectName, 80);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, TypeSpecificInformation, 88);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, TypeSpecificInformation.Thread.Win32StartAddress, 128);
SNAPDUMP_PSS_ASSERT(PSS_HANDLE_ENTRY, TypeSpecificInformation.Section.MaximumSize, 104);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_HANDLE_ENTRY) == 136, "PSS_HANDLE_ENTRY");
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, TebBaseAddress, 8);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, AffinityMask, 24);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, LastSyscallFirstArgument, 40);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, LastSyscallNumber, 48);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, CreateTime, 52);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, UserTime, 76);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, Win32StartAddress, 88);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, CaptureTime, 96);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, Flags, 104);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, SuspendCount, 108);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, SizeOfContextRecord, 110);
SNAPDUMP_PSS_ASSERT(PSS_THREAD_ENTRY, ContextRecord, 112);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_THREAD_ENTRY) == 120, "PSS_THREAD_ENTRY");
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(PSS_ALLOCATOR) == 24, "PSS_ALLOCATOR");
#undef SNAPDUMP_PSS_ASSERT

#endif /* SNAPDUMP_WIN_PROCESSSNAPSHOT_H */
