/* The MINIDUMP_* file-format structures and enumerations of minidumpapiset.h, with the SDK's
 * x64 layout: packed to 4 bytes (the SDK wraps them in pshpack4.h). minidumpapiset.h adds the
 * callback types and functions. Plain C11; every size is asserted below. */
#ifndef SNAPDUMP_WIN_MINIDUMP_FORMAT_H
#define SNAPDUMP_WIN_MINIDUMP_FORMAT_H

#include "windows.h"

#define MINIDUMP_SIGNATURE 0x504D444Du /* 'PMDM' */
#define MINIDUMP_VERSION (42899)
typedef DWORD RVA;
typedef ULONG64 RVA64;

#pragma pack(push, 4)

typedef struct _MINIDUMP_LOCATION_DESCRIPTOR {
  ULONG32 DataSize;
  RVA Rva;
} MINIDUMP_LOCATION_DESCRIPTOR;

typedef struct _MINIDUMP_LOCATION_DESCRIPTOR64 {
  ULONG64 DataSize;
  RVA64 Rva;
} MINIDUMP_LOCATION_DESCRIPTOR64;

typedef struct _MINIDUMP_MEMORY_DESCRIPTOR {
  ULONG64 StartOfMemoryRange;
  MINIDUMP_LOCATION_DESCRIPTOR Memory;
} MINIDUMP_MEMORY_DESCRIPTOR, *PMINIDUMP_MEMORY_DESCRIPTOR;

typedef struct _MINIDUMP_MEMORY_DESCRIPTOR64 {
  ULONG64 StartOfMemoryRange;
  ULONG64 DataSize;
} MINIDUMP_MEMORY_DESCRIPTOR64, *PMINIDUMP_MEMORY_DESCRIPTOR64;

typedef struct _MINIDUMP_HEADER {
  ULONG32 Signature;
  ULONG32 Version;
  ULONG32 NumberOfStreams;
  RVA StreamDirectoryRva;
  ULONG32 CheckSum;
  union {
    ULONG32 Reserved;
    ULONG32 TimeDateStamp;
  };
  ULONG64 Flags;
} MINIDUMP_HEADER, *PMINIDUMP_HEADER;

typedef struct _MINIDUMP_DIRECTORY {
  ULONG32 StreamType;
  MINIDUMP_LOCATION_DESCRIPTOR Location;
} MINIDUMP_DIRECTORY, *PMINIDUMP_DIRECTORY;

typedef struct _MINIDUMP_STRING {
  ULONG32 Length; /* bytes, without the terminating NUL */
  uint16_t Buffer[1]; /* UTF-16 on disk, whatever WCHAR is in memory */
} MINIDUMP_STRING, *PMINIDUMP_STRING;

typedef enum _MINIDUMP_STREAM_TYPE SNAPDUMP_WIN_VALUE_ENUM {
  UnusedStream = 0,
  ReservedStream0 = 1,
  ReservedStream1 = 2,
  ThreadListStream = 3,
  ModuleListStream = 4,
  MemoryListStream = 5,
  ExceptionStream = 6,
  SystemInfoStream = 7,
  ThreadExListStream = 8,
  Memory64ListStream = 9,
  CommentStreamA = 10,
  CommentStreamW = 11,
  HandleDataStream = 12,
  FunctionTableStream = 13,
  UnloadedModuleListStream = 14,
  MiscInfoStream = 15,
  MemoryInfoListStream = 16,
  ThreadInfoListStream = 17,
  HandleOperationListStream = 18,
  TokenStream = 19,
  JavaScriptDataStream = 20,
  SystemMemoryInfoStream = 21,
  ProcessVmCountersStream = 22,
  IptTraceStream = 23,
  ThreadNamesStream = 24,
  ceStreamNull = 0x8000,
  ceStreamSystemInfo = 0x8001,
  ceStreamException = 0x8002,
  ceStreamModuleList = 0x8003,
  ceStreamProcessList = 0x8004,
  ceStreamThreadList = 0x8005,
  ceStreamThreadContextList = 0x8006,
  ceStreamThreadCallStackList = 0x8007,
  ceStreamMemoryVirtualList = 0x8008,
  ceStreamMemoryPhysicalList = 0x8009,
  ceStreamBucketParameters = 0x800A,
  ceStreamProcessModuleMap = 0x800B,
  ceStreamDiagnosisList = 0x800C,
  LastReservedStream = 0xffff
} MINIDUMP_STREAM_TYPE;

typedef union _CPU_INFORMATION {
  struct {
    ULONG32 VendorId[3];
    ULONG32 VersionInformation;
    ULONG32 FeatureInformation;
    ULONG32 AMDExtendedCpuFeatures;
  } X86CpuInfo;
  struct {
    ULONG64 ProcessorFeatures[2];
  } OtherCpuInfo;
} CPU_INFORMATION, *PCPU_INFORMATION;

typedef struct _MINIDUMP_SYSTEM_INFO {
  USHORT ProcessorArchitecture;
  USHORT ProcessorLevel;
  USHORT ProcessorRevision;
  union {
    USHORT Reserved0;
    struct {
      UCHAR NumberOfProcessors;
      UCHAR ProductType;
    };
  };
  ULONG32 MajorVersion;
  ULONG32 MinorVersion;
  ULONG32 BuildNumber;
  ULONG32 PlatformId;
  RVA CSDVersionRva;
  union {
    ULONG32 Reserved1;
    struct {
      USHORT SuiteMask;
      USHORT Reserved2;
    };
  };
  CPU_INFORMATION Cpu;
} MINIDUMP_SYSTEM_INFO, *PMINIDUMP_SYSTEM_INFO;

typedef struct _MINIDUMP_THREAD {
  ULONG32 ThreadId;
  ULONG32 SuspendCount;
  ULONG32 PriorityClass;
  ULONG32 Priority;
  ULONG64 Teb;
  MINIDUMP_MEMORY_DESCRIPTOR Stack;
  MINIDUMP_LOCATION_DESCRIPTOR ThreadContext;
} MINIDUMP_THREAD, *PMINIDUMP_THREAD;

typedef struct _MINIDUMP_THREAD_LIST {
  ULONG32 NumberOfThreads;
  MINIDUMP_THREAD Threads[1];
} MINIDUMP_THREAD_LIST, *PMINIDUMP_THREAD_LIST;

typedef struct _MINIDUMP_THREAD_EX {
  ULONG32 ThreadId;
  ULONG32 SuspendCount;
  ULONG32 PriorityClass;
  ULONG32 Priority;
  ULONG64 Teb;
  MINIDUMP_MEMORY_DESCRIPTOR Stack;
  MINIDUMP_LOCATION_DESCRIPTOR ThreadContext;
  MINIDUMP_MEMORY_DESCRIPTOR BackingStore;
} MINIDUMP_THREAD_EX, *PMINIDUMP_THREAD_EX;

typedef struct _MINIDUMP_THREAD_EX_LIST {
  ULONG32 NumberOfThreads;
  MINIDUMP_THREAD_EX Threads[1];
} MINIDUMP_THREAD_EX_LIST, *PMINIDUMP_THREAD_EX_LIST;

typedef struct _MINIDUMP_EXCEPTION {
  ULONG32 ExceptionCode;
  ULONG32 ExceptionFlags;
  ULONG64 ExceptionRecord;
  ULONG64 ExceptionAddress;
  ULONG32 NumberParameters;
  ULONG32 __unusedAlignment;
  ULONG64 ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS];
} MINIDUMP_EXCEPTION, *PMINIDUMP_EXCEPTION;

typedef struct _MINIDUMP_EXCEPTION_STREAM {
  ULONG32 ThreadId;
  ULONG32 __alignment;
  MINIDUMP_EXCEPTION ExceptionRecord;
  MINIDUMP_LOCATION_DESCRIPTOR ThreadContext;
} MINIDUMP_EXCEPTION_STREAM, *PMINIDUMP_EXCEPTION_STREAM;

typedef struct _MINIDUMP_MODULE {
  ULONG64 BaseOfImage;
  ULONG32 SizeOfImage;
  ULONG32 CheckSum;
  ULONG32 TimeDateStamp;
  RVA ModuleNameRva;
  VS_FIXEDFILEINFO VersionInfo;
  MINIDUMP_LOCATION_DESCRIPTOR CvRecord;
  MINIDUMP_LOCATION_DESCRIPTOR MiscRecord;
  ULONG64 Reserved0;
  ULONG64 Reserved1;
} MINIDUMP_MODULE, *PMINIDUMP_MODULE;

typedef struct _MINIDUMP_MODULE_LIST {
  ULONG32 NumberOfModules;
  MINIDUMP_MODULE Modules[1];
} MINIDUMP_MODULE_LIST, *PMINIDUMP_MODULE_LIST;

typedef struct _MINIDUMP_MEMORY_LIST {
  ULONG32 NumberOfMemoryRanges;
  MINIDUMP_MEMORY_DESCRIPTOR MemoryRanges[1];
} MINIDUMP_MEMORY_LIST, *PMINIDUMP_MEMORY_LIST;

typedef struct _MINIDUMP_MEMORY64_LIST {
  ULONG64 NumberOfMemoryRanges;
  RVA64 BaseRva;
  MINIDUMP_MEMORY_DESCRIPTOR64 MemoryRanges[1];
} MINIDUMP_MEMORY64_LIST, *PMINIDUMP_MEMORY64_LIST;

typedef struct _MINIDUMP_HANDLE_DATA_STREAM {
  ULONG32 SizeOfHeader;
  ULONG32 SizeOfDescriptor;
  ULONG32 NumberOfDescriptors;
  ULONG32 Reserved;
} MINIDUMP_HANDLE_DATA_STREAM, *PMINIDUMP_HANDLE_DATA_STREAM;

typedef struct _MINIDUMP_HANDLE_DESCRIPTOR {
  ULONG64 Handle;
  RVA TypeNameRva;
  RVA ObjectNameRva;
  ULONG32 Attributes;
  ULONG32 GrantedAccess;
  ULONG32 HandleCount;
  ULONG32 PointerCount;
} MINIDUMP_HANDLE_DESCRIPTOR, *PMINIDUMP_HANDLE_DESCRIPTOR;

typedef struct _MINIDUMP_HANDLE_DESCRIPTOR_2 {
  ULONG64 Handle;
  RVA TypeNameRva;
  RVA ObjectNameRva;
  ULONG32 Attributes;
  ULONG32 GrantedAccess;
  ULONG32 HandleCount;
  ULONG32 PointerCount;
  RVA ObjectInfoRva;
  ULONG32 Reserved0;
} MINIDUMP_HANDLE_DESCRIPTOR_2, *PMINIDUMP_HANDLE_DESCRIPTOR_2;
typedef MINIDUMP_HANDLE_DESCRIPTOR_2 MINIDUMP_HANDLE_DESCRIPTOR_N, *PMINIDUMP_HANDLE_DESCRIPTOR_N;

typedef enum _MINIDUMP_HANDLE_OBJECT_INFORMATION_TYPE SNAPDUMP_WIN_VALUE_ENUM {
  MiniHandleObjectInformationNone,
  MiniThreadInformation1,
  MiniMutantInformation1,
  MiniMutantInformation2,
  MiniProcessInformation1,
  MiniProcessInformation2,
  MiniEventInformation1,
  MiniSectionInformation1,
  MiniSemaphoreInformation1,
  MiniHandleObjectInformationTypeMax
} MINIDUMP_HANDLE_OBJECT_INFORMATION_TYPE;

typedef struct _MINIDUMP_HANDLE_OBJECT_INFORMATION {
  RVA NextInfoRva;
  ULONG32 InfoType;
  ULONG32 SizeOfInfo;
} MINIDUMP_HANDLE_OBJECT_INFORMATION;

typedef struct _MINIDUMP_HANDLE_OPERATION_LIST {
  ULONG32 SizeOfHeader;
  ULONG32 SizeOfEntry;
  ULONG32 NumberOfEntries;
  ULONG32 Reserved;
} MINIDUMP_HANDLE_OPERATION_LIST, *PMINIDUMP_HANDLE_OPERATION_LIST;

typedef struct _MINIDUMP_FUNCTION_TABLE_DESCRIPTOR {
  ULONG64 MinimumAddress;
  ULONG64 MaximumAddress;
  ULONG64 BaseAddress;
  ULONG32 EntryCount;
  ULONG32 SizeOfAlignPad;
} MINIDUMP_FUNCTION_TABLE_DESCRIPTOR, *PMINIDUMP_FUNCTION_TABLE_DESCRIPTOR;

typedef struct _MINIDUMP_FUNCTION_TABLE_STREAM {
  ULONG32 SizeOfHeader;
  ULONG32 SizeOfDescriptor;
  ULONG32 SizeOfNativeDescriptor;
  ULONG32 SizeOfFunctionEntry;
  ULONG32 NumberOfDescriptors;
  ULONG32 SizeOfAlignPad;
} MINIDUMP_FUNCTION_TABLE_STREAM, *PMINIDUMP_FUNCTION_TABLE_STREAM;

typedef struct _MINIDUMP_UNLOADED_MODULE {
  ULONG64 BaseOfImage;
  ULONG32 SizeOfImage;
  ULONG32 CheckSum;
  ULONG32 TimeDateStamp;
  RVA ModuleNameRva;
} MINIDUMP_UNLOADED_MODULE, *PMINIDUMP_UNLOADED_MODULE;

typedef struct _MINIDUMP_UNLOADED_MODULE_LIST {
  ULONG32 SizeOfHeader;
  ULONG32 SizeOfEntry;
  ULONG32 NumberOfEntries;
} MINIDUMP_UNLOADED_MODULE_LIST, *PMINIDUMP_UNLOADED_MODULE_LIST;

#define MINIDUMP_MISC1_PROCESS_ID 0x00000001
#define MINIDUMP_MISC1_PROCESS_TIMES 0x00000002
#define MINIDUMP_MISC1_PROCESSOR_POWER_INFO 0x00000004
#define MINIDUMP_MISC3_PROCESS_INTEGRITY 0x00000010
#define MINIDUMP_MISC3_PROCESS_EXECUTE_FLAGS 0x00000020
#define MINIDUMP_MISC3_TIMEZONE 0x00000040
#define MINIDUMP_MISC3_PROTECTED_PROCESS 0x00000080
#define MINIDUMP_MISC4_BUILDSTRING 0x00000100
#define MINIDUMP_MISC5_PROCESS_COOKIE 0x00000200

typedef struct _MINIDUMP_MISC_INFO {
  ULONG32 SizeOfInfo;
  ULONG32 Flags1;
  ULONG32 ProcessId;
  ULONG32 ProcessCreateTime;
  ULONG32 ProcessUserTime;
  ULONG32 ProcessKernelTime;
} MINIDUMP_MISC_INFO, *PMINIDUMP_MISC_INFO;

typedef struct _MINIDUMP_MISC_INFO_2 {
  ULONG32 SizeOfInfo;
  ULONG32 Flags1;
  ULONG32 ProcessId;
  ULONG32 ProcessCreateTime;
  ULONG32 ProcessUserTime;
  ULONG32 ProcessKernelTime;
  ULONG32 ProcessorMaxMhz;
  ULONG32 ProcessorCurrentMhz;
  ULONG32 ProcessorMhzLimit;
  ULONG32 ProcessorMaxIdleState;
  ULONG32 ProcessorCurrentIdleState;
} MINIDUMP_MISC_INFO_2, *PMINIDUMP_MISC_INFO_2;

typedef struct _SYSTEMTIME {
  WORD wYear;
  WORD wMonth;
  WORD wDayOfWeek;
  WORD wDay;
  WORD wHour;
  WORD wMinute;
  WORD wSecond;
  WORD wMilliseconds;
} SYSTEMTIME, *PSYSTEMTIME;

/* On disk the zone names are UTF-16; this is the file layout, so they are 16-bit units. */
typedef struct _TIME_ZONE_INFORMATION {
  LONG Bias;
  uint16_t StandardName[32];
  SYSTEMTIME StandardDate;
  LONG StandardBias;
  uint16_t DaylightName[32];
  SYSTEMTIME DaylightDate;
  LONG DaylightBias;
} TIME_ZONE_INFORMATION;

typedef struct _MINIDUMP_MISC_INFO_3 {
  ULONG32 SizeOfInfo;
  ULONG32 Flags1;
  ULONG32 ProcessId;
  ULONG32 ProcessCreateTime;
  ULONG32 ProcessUserTime;
  ULONG32 ProcessKernelTime;
  ULONG32 ProcessorMaxMhz;
  ULONG32 ProcessorCurrentMhz;
  ULONG32 ProcessorMhzLimit;
  ULONG32 ProcessorMaxIdleState;
  ULONG32 ProcessorCurrentIdleState;
  ULONG32 ProcessIntegrityLevel;
  ULONG32 ProcessExecuteFlags;
  ULONG32 ProtectedProcess;
  ULONG32 TimeZoneId;
  TIME_ZONE_INFORMATION TimeZone;
} MINIDUMP_MISC_INFO_3, *PMINIDUMP_MISC_INFO_3;

typedef struct _MINIDUMP_MISC_INFO_4 {
  ULONG32 SizeOfInfo;
  ULONG32 Flags1;
  ULONG32 ProcessId;
  ULONG32 ProcessCreateTime;
  ULONG32 ProcessUserTime;
  ULONG32 ProcessKernelTime;
  ULONG32 ProcessorMaxMhz;
  ULONG32 ProcessorCurrentMhz;
  ULONG32 ProcessorMhzLimit;
  ULONG32 ProcessorMaxIdleState;
  ULONG32 ProcessorCurrentIdleState;
  ULONG32 ProcessIntegrityLevel;
  ULONG32 ProcessExecuteFlags;
  ULONG32 ProtectedProcess;
  ULONG32 TimeZoneId;
  TIME_ZONE_INFORMATION TimeZone;
  uint16_t BuildString[MAX_PATH];
  uint16_t DbgBldStr[40];
} MINIDUMP_MISC_INFO_4, *PMINIDUMP_MISC_INFO_4;

typedef struct _XSTATE_FEATURE {
  DWORD Offset;
  DWORD Size;
} XSTATE_FEATURE;

typedef struct _XSTATE_CONFIG_FEATURE_MSC_INFO {
  ULONG32 SizeOfInfo;
  ULONG32 ContextSize;
  ULONG64 EnabledFeatures;
  XSTATE_FEATURE Features[64];
} XSTATE_CONFIG_FEATURE_MSC_INFO;

typedef struct _MINIDUMP_MISC_INFO_5 {
  ULONG32 SizeOfInfo;
  ULONG32 Flags1;
  ULONG32 ProcessId;
  ULONG32 ProcessCreateTime;
  ULONG32 ProcessUserTime;
  ULONG32 ProcessKernelTime;
  ULONG32 ProcessorMaxMhz;
  ULONG32 ProcessorCurrentMhz;
  ULONG32 ProcessorMhzLimit;
  ULONG32 ProcessorMaxIdleState;
  ULONG32 ProcessorCurrentIdleState;
  ULONG32 ProcessIntegrityLevel;
  ULONG32 ProcessExecuteFlags;
  ULONG32 ProtectedProcess;
  ULONG32 TimeZoneId;
  TIME_ZONE_INFORMATION TimeZone;
  uint16_t BuildString[MAX_PATH];
  uint16_t DbgBldStr[40];
  XSTATE_CONFIG_FEATURE_MSC_INFO XStateData;
  ULONG32 ProcessCookie;
} MINIDUMP_MISC_INFO_5, *PMINIDUMP_MISC_INFO_5;
typedef MINIDUMP_MISC_INFO_5 MINIDUMP_MISC_INFO_N, *PMINIDUMP_MISC_INFO_N;

typedef struct _MINIDUMP_MEMORY_INFO {
  ULONG64 BaseAddress;
  ULONG64 AllocationBase;
  ULONG32 AllocationProtect;
  ULONG32 __alignment1;
  ULONG64 RegionSize;
  ULONG32 State;
  ULONG32 Protect;
  ULONG32 Type;
  ULONG32 __alignment2;
} MINIDUMP_MEMORY_INFO, *PMINIDUMP_MEMORY_INFO;

typedef struct _MINIDUMP_MEMORY_INFO_LIST {
  ULONG SizeOfHeader;
  ULONG SizeOfEntry;
  ULONG64 NumberOfEntries;
} MINIDUMP_MEMORY_INFO_LIST, *PMINIDUMP_MEMORY_INFO_LIST;

#define MINIDUMP_THREAD_INFO_ERROR_THREAD 0x00000001
#define MINIDUMP_THREAD_INFO_WRITING_THREAD 0x00000002
#define MINIDUMP_THREAD_INFO_EXITED_THREAD 0x00000004
#define MINIDUMP_THREAD_INFO_INVALID_INFO 0x00000008
#define MINIDUMP_THREAD_INFO_INVALID_CONTEXT 0x00000010
#define MINIDUMP_THREAD_INFO_INVALID_TEB 0x00000020

typedef struct _MINIDUMP_THREAD_INFO {
  ULONG32 ThreadId;
  ULONG32 DumpFlags;
  ULONG32 DumpError;
  ULONG32 ExitStatus;
  ULONG64 CreateTime;
  ULONG64 ExitTime;
  ULONG64 KernelTime;
  ULONG64 UserTime;
  ULONG64 StartAddress;
  ULONG64 Affinity;
} MINIDUMP_THREAD_INFO, *PMINIDUMP_THREAD_INFO;

typedef struct _MINIDUMP_THREAD_INFO_LIST {
  ULONG SizeOfHeader;
  ULONG SizeOfEntry;
  ULONG NumberOfEntries;
} MINIDUMP_THREAD_INFO_LIST, *PMINIDUMP_THREAD_INFO_LIST;

typedef struct _MINIDUMP_TOKEN_INFO_HEADER {
  ULONG TokenSize;
  ULONG TokenId;
  ULONG64 TokenHandle;
} MINIDUMP_TOKEN_INFO_HEADER, *PMINIDUMP_TOKEN_INFO_HEADER;

typedef struct _MINIDUMP_TOKEN_INFO_LIST {
  ULONG TokenListSize;
  ULONG TokenListEntries;
  ULONG ListHeaderSize;
  ULONG ElementHeaderSize;
} MINIDUMP_TOKEN_INFO_LIST, *PMINIDUMP_TOKEN_INFO_LIST;

typedef struct _MINIDUMP_THREAD_NAME {
  ULONG ThreadId;
  RVA64 RvaOfThreadName;
} MINIDUMP_THREAD_NAME, *PMINIDUMP_THREAD_NAME;

typedef struct _MINIDUMP_THREAD_NAME_LIST {
  ULONG NumberOfThreadNames;
  MINIDUMP_THREAD_NAME ThreadNames[1];
} MINIDUMP_THREAD_NAME_LIST, *PMINIDUMP_THREAD_NAME_LIST;

typedef struct _MINIDUMP_PROCESS_VM_COUNTERS_1 {
  USHORT Revision;
  ULONG PageFaultCount;
  ULONG64 PeakWorkingSetSize;
  ULONG64 WorkingSetSize;
  ULONG64 QuotaPeakPagedPoolUsage;
  ULONG64 QuotaPagedPoolUsage;
  ULONG64 QuotaPeakNonPagedPoolUsage;
  ULONG64 QuotaNonPagedPoolUsage;
  ULONG64 PagefileUsage;
  ULONG64 PeakPagefileUsage;
  ULONG64 PrivateUsage;
} MINIDUMP_PROCESS_VM_COUNTERS_1, *PMINIDUMP_PROCESS_VM_COUNTERS_1;

#pragma pack(pop)

#define SNAPDUMP_MD_SIZE(type, size) SNAPDUMP_WIN_STATIC_ASSERT(sizeof(type) == (size), #type)
#define SNAPDUMP_MD_AT(type, field, off) \
  SNAPDUMP_WIN_STATIC_ASSERT(offsetof(type, field) == (off), #type "." #field)
SNAPDUMP_MD_SIZE(MINIDUMP_LOCATION_DESCRIPTOR, 8);
SNAPDUMP_MD_SIZE(MINIDUMP_LOCATION_DESCRIPTOR64, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_MEMORY_DESCRIPTOR, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_MEMORY_DESCRIPTOR64, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_HEADER, 32);
SNAPDUMP_MD_AT(MINIDUMP_HEADER, Flags, 24);
SNAPDUMP_MD_SIZE(MINIDUMP_DIRECTORY, 12);
SNAPDUMP_MD_SIZE(MINIDUMP_SYSTEM_INFO, 56);
SNAPDUMP_MD_AT(MINIDUMP_SYSTEM_INFO, PlatformId, 20);
SNAPDUMP_MD_AT(MINIDUMP_SYSTEM_INFO, CSDVersionRva, 24);
SNAPDUMP_MD_AT(MINIDUMP_SYSTEM_INFO, Cpu, 32);
SNAPDUMP_MD_SIZE(MINIDUMP_THREAD, 48);
SNAPDUMP_MD_AT(MINIDUMP_THREAD, Stack, 24);
SNAPDUMP_MD_AT(MINIDUMP_THREAD, ThreadContext, 40);
SNAPDUMP_MD_AT(MINIDUMP_THREAD_LIST, Threads, 4);
SNAPDUMP_MD_SIZE(MINIDUMP_THREAD_EX, 64);
SNAPDUMP_MD_SIZE(MINIDUMP_EXCEPTION, 152);
SNAPDUMP_MD_SIZE(MINIDUMP_EXCEPTION_STREAM, 168);
SNAPDUMP_MD_SIZE(MINIDUMP_MODULE, 108);
SNAPDUMP_MD_AT(MINIDUMP_MODULE, ModuleNameRva, 20);
SNAPDUMP_MD_AT(MINIDUMP_MODULE, CvRecord, 76);
SNAPDUMP_MD_AT(MINIDUMP_MODULE_LIST, Modules, 4);
SNAPDUMP_MD_AT(MINIDUMP_MEMORY_LIST, MemoryRanges, 4);
SNAPDUMP_MD_AT(MINIDUMP_MEMORY64_LIST, MemoryRanges, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_HANDLE_DATA_STREAM, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_HANDLE_DESCRIPTOR, 32);
SNAPDUMP_MD_SIZE(MINIDUMP_HANDLE_DESCRIPTOR_2, 40);
SNAPDUMP_MD_SIZE(MINIDUMP_HANDLE_OBJECT_INFORMATION, 12);
SNAPDUMP_MD_SIZE(MINIDUMP_FUNCTION_TABLE_DESCRIPTOR, 32);
SNAPDUMP_MD_SIZE(MINIDUMP_FUNCTION_TABLE_STREAM, 24);
SNAPDUMP_MD_SIZE(MINIDUMP_UNLOADED_MODULE, 24);
SNAPDUMP_MD_SIZE(MINIDUMP_UNLOADED_MODULE_LIST, 12);
SNAPDUMP_MD_SIZE(MINIDUMP_MISC_INFO, 24);
SNAPDUMP_MD_SIZE(MINIDUMP_MISC_INFO_2, 44);
SNAPDUMP_MD_SIZE(TIME_ZONE_INFORMATION, 172);
SNAPDUMP_MD_SIZE(MINIDUMP_MISC_INFO_3, 232);
SNAPDUMP_MD_SIZE(MINIDUMP_MISC_INFO_4, 832);
SNAPDUMP_MD_SIZE(XSTATE_CONFIG_FEATURE_MSC_INFO, 528);
SNAPDUMP_MD_SIZE(MINIDUMP_MISC_INFO_5, 1364);
SNAPDUMP_MD_SIZE(MINIDUMP_MEMORY_INFO, 48);
SNAPDUMP_MD_SIZE(MINIDUMP_MEMORY_INFO_LIST, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_THREAD_INFO, 64);
SNAPDUMP_MD_SIZE(MINIDUMP_THREAD_INFO_LIST, 12);
SNAPDUMP_MD_SIZE(MINIDUMP_TOKEN_INFO_HEADER, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_TOKEN_INFO_LIST, 16);
SNAPDUMP_MD_SIZE(MINIDUMP_THREAD_NAME, 12);
SNAPDUMP_MD_SIZE(MINIDUMP_PROCESS_VM_COUNTERS_1, 80);
SNAPDUMP_MD_AT(MINIDUMP_PROCESS_VM_COUNTERS_1, PeakWorkingSetSize, 8);
#undef SNAPDUMP_MD_SIZE
#undef SNAPDUMP_MD_AT

#endif /* SNAPDUMP_WIN_MINIDUMP_FORMAT_H */
