/* MiniDumpWriteDump and MiniDumpReadDumpStream (minidumpapiset.h) with the SDK's names, values
 * and x64 layouts, implemented over snapdump's writer and format structures. On failure
 * MiniDumpWriteDump returns FALSE and the last error is an HRESULT (docs/win-api.md). */
#ifndef SNAPDUMP_WIN_MINIDUMPAPISET_H
#define SNAPDUMP_WIN_MINIDUMPAPISET_H

#include "minidump_format.h"

typedef enum _MINIDUMP_TYPE SNAPDUMP_WIN_FLAGS_ENUM {
  MiniDumpNormal = 0x00000000,
  MiniDumpWithDataSegs = 0x00000001,
  MiniDumpWithFullMemory = 0x00000002,
  MiniDumpWithHandleData = 0x00000004,
  MiniDumpFilterMemory = 0x00000008,
  MiniDumpScanMemory = 0x00000010,
  MiniDumpWithUnloadedModules = 0x00000020,
  MiniDumpWithIndirectlyReferencedMemory = 0x00000040,
  MiniDumpFilterModulePaths = 0x00000080,
  MiniDumpWithProcessThreadData = 0x00000100,
  MiniDumpWithPrivateReadWriteMemory = 0x00000200,
  MiniDumpWithoutOptionalData = 0x00000400,
  MiniDumpWithFullMemoryInfo = 0x00000800,
  MiniDumpWithThreadInfo = 0x00001000,
  MiniDumpWithCodeSegs = 0x00002000,
  MiniDumpWithoutAuxiliaryState = 0x00004000,
  MiniDumpWithFullAuxiliaryState = 0x00008000,
  MiniDumpWithPrivateWriteCopyMemory = 0x00010000,
  MiniDumpIgnoreInaccessibleMemory = 0x00020000,
  MiniDumpWithTokenInformation = 0x00040000,
  MiniDumpWithModuleHeaders = 0x00080000,
  MiniDumpFilterTriage = 0x00100000,
  MiniDumpWithAvxXStateContext = 0x00200000,
  MiniDumpWithIptTrace = 0x00400000,
  MiniDumpScanInaccessiblePartialPages = 0x00800000,
  MiniDumpFilterWriteCombinedMemory = 0x01000000,
  MiniDumpValidTypeFlags = 0x01ffffff
} MINIDUMP_TYPE;

typedef enum _MINIDUMP_SECONDARY_FLAGS SNAPDUMP_WIN_FLAGS_ENUM {
  MiniSecondaryWithoutPowerInfo = 0x00000001,
  MiniSecondaryValidFlags = 0x00000001
} MINIDUMP_SECONDARY_FLAGS;

typedef enum _MINIDUMP_CALLBACK_TYPE SNAPDUMP_WIN_VALUE_ENUM {
  ModuleCallback,
  ThreadCallback,
  ThreadExCallback,
  IncludeThreadCallback,
  IncludeModuleCallback,
  MemoryCallback,
  CancelCallback,
  WriteKernelMinidumpCallback,
  KernelMinidumpStatusCallback,
  RemoveMemoryCallback,
  IncludeVmRegionCallback,
  IoStartCallback,
  IoWriteAllCallback,
  IoFinishCallback,
  ReadMemoryFailureCallback,
  SecondaryFlagsCallback,
  IsProcessSnapshotCallback,
  VmStartCallback,
  VmQueryCallback,
  VmPreReadCallback,
  VmPostReadCallback
} MINIDUMP_CALLBACK_TYPE;

typedef enum _THREAD_WRITE_FLAGS SNAPDUMP_WIN_FLAGS_ENUM {
  ThreadWriteThread = 0x0001,
  ThreadWriteStack = 0x0002,
  ThreadWriteContext = 0x0004,
  ThreadWriteBackingStore = 0x0008,
  ThreadWriteInstructionWindow = 0x0010,
  ThreadWriteThreadData = 0x0020,
  ThreadWriteThreadInfo = 0x0040
} THREAD_WRITE_FLAGS;

typedef enum _MODULE_WRITE_FLAGS SNAPDUMP_WIN_FLAGS_ENUM {
  ModuleWriteModule = 0x0001,
  ModuleWriteDataSeg = 0x0002,
  ModuleWriteMiscRecord = 0x0004,
  ModuleWriteCvRecord = 0x0008,
  ModuleReferencedByMemory = 0x0010,
  ModuleWriteTlsData = 0x0020,
  ModuleWriteCodeSegs = 0x0040
} MODULE_WRITE_FLAGS;

#pragma pack(push, 4)

typedef struct _MINIDUMP_EXCEPTION_INFORMATION {
  DWORD ThreadId;
  PEXCEPTION_POINTERS ExceptionPointers;
  BOOL ClientPointers;
} MINIDUMP_EXCEPTION_INFORMATION, *PMINIDUMP_EXCEPTION_INFORMATION;

typedef struct _MINIDUMP_EXCEPTION_INFORMATION64 {
  DWORD ThreadId;
  ULONG64 ExceptionRecord;
  ULONG64 ContextRecord;
  BOOL ClientPointers;
} MINIDUMP_EXCEPTION_INFORMATION64, *PMINIDUMP_EXCEPTION_INFORMATION64;

typedef struct _MINIDUMP_USER_STREAM {
  ULONG32 Type;
  ULONG BufferSize;
  PVOID Buffer;
} MINIDUMP_USER_STREAM, *PMINIDUMP_USER_STREAM;

typedef struct _MINIDUMP_USER_STREAM_INFORMATION {
  ULONG UserStreamCount;
  PMINIDUMP_USER_STREAM UserStreamArray;
} MINIDUMP_USER_STREAM_INFORMATION, *PMINIDUMP_USER_STREAM_INFORMATION;

typedef struct _MINIDUMP_INCLUDE_THREAD_CALLBACK {
  ULONG ThreadId;
} MINIDUMP_INCLUDE_THREAD_CALLBACK, *PMINIDUMP_INCLUDE_THREAD_CALLBACK;

typedef struct _MINIDUMP_MODULE_CALLBACK {
  PWCHAR FullPath;
  ULONG64 BaseOfImage;
  ULONG SizeOfImage;
  ULONG CheckSum;
  ULONG TimeDateStamp;
  VS_FIXEDFILEINFO VersionInfo;
  PVOID CvRecord;
  ULONG SizeOfCvRecord;
  PVOID MiscRecord;
  ULONG SizeOfMiscRecord;
} MINIDUMP_MODULE_CALLBACK, *PMINIDUMP_MODULE_CALLBACK;

typedef struct _MINIDUMP_INCLUDE_MODULE_CALLBACK {
  ULONG64 BaseOfImage;
} MINIDUMP_INCLUDE_MODULE_CALLBACK, *PMINIDUMP_INCLUDE_MODULE_CALLBACK;

typedef struct _MINIDUMP_IO_CALLBACK {
  HANDLE Handle;
  ULONG64 Offset;
  PVOID Buffer;
  ULONG BufferBytes;
} MINIDUMP_IO_CALLBACK, *PMINIDUMP_IO_CALLBACK;

typedef struct _MINIDUMP_READ_MEMORY_FAILURE_CALLBACK {
  ULONG64 Offset;
  ULONG Bytes;
  HRESULT FailureStatus;
} MINIDUMP_READ_MEMORY_FAILURE_CALLBACK, *PMINIDUMP_READ_MEMORY_FAILURE_CALLBACK;

typedef struct _MINIDUMP_VM_QUERY_CALLBACK {
  ULONG64 Offset;
} MINIDUMP_VM_QUERY_CALLBACK, *PMINIDUMP_VM_QUERY_CALLBACK;

typedef struct _MINIDUMP_VM_PRE_READ_CALLBACK {
  ULONG64 Offset;
  PVOID Buffer;
  ULONG Size;
} MINIDUMP_VM_PRE_READ_CALLBACK, *PMINIDUMP_VM_PRE_READ_CALLBACK;

typedef struct _MINIDUMP_VM_POST_READ_CALLBACK {
  ULONG64 Offset;
  PVOID Buffer;
  ULONG Size;
  ULONG Completed;
  HRESULT Status;
} MINIDUMP_VM_POST_READ_CALLBACK, *PMINIDUMP_VM_POST_READ_CALLBACK;

typedef struct _MINIDUMP_CALLBACK_OUTPUT {
  union {
    ULONG ModuleWriteFlags;
    ULONG ThreadWriteFlags;
    ULONG SecondaryFlags;
    struct {
      ULONG64 MemoryBase;
      ULONG MemorySize;
    };
    struct {
      BOOL CheckCancel;
      BOOL Cancel;
    };
    HANDLE Handle;
    struct {
      MINIDUMP_MEMORY_INFO VmRegion;
      BOOL Continue;
    };
    struct {
      HRESULT VmQueryStatus;
      MINIDUMP_MEMORY_INFO VmQueryResult;
    };
    struct {
      HRESULT VmReadStatus;
      ULONG VmReadBytesCompleted;
    };
    HRESULT Status;
  };
} MINIDUMP_CALLBACK_OUTPUT, *PMINIDUMP_CALLBACK_OUTPUT;

#pragma pack(pop)

/* These hold a CONTEXT, which is 16-byte aligned; MSVC lets that alignment override the
 * 4-byte packing, GCC does not, so they are declared outside the packed region with natural
 * alignment: the same members and the same source, a layout of their own (nothing passes them
 * to Windows binaries). Context is at offset 16 as on Windows x64. */
typedef struct _MINIDUMP_THREAD_CALLBACK {
  ULONG ThreadId;
  HANDLE ThreadHandle; /* NULL on Linux: threads have no handles */
  CONTEXT Context;
  ULONG SizeOfContext;
  ULONG64 StackBase;
  ULONG64 StackEnd;
} MINIDUMP_THREAD_CALLBACK, *PMINIDUMP_THREAD_CALLBACK;

typedef struct _MINIDUMP_THREAD_EX_CALLBACK {
  ULONG ThreadId;
  HANDLE ThreadHandle;
  CONTEXT Context;
  ULONG SizeOfContext;
  ULONG64 StackBase;
  ULONG64 StackEnd;
  ULONG64 BackingStoreBase;
  ULONG64 BackingStoreEnd;
} MINIDUMP_THREAD_EX_CALLBACK, *PMINIDUMP_THREAD_EX_CALLBACK;

typedef struct _MINIDUMP_CALLBACK_INPUT {
  ULONG ProcessId;
  HANDLE ProcessHandle;
  ULONG CallbackType;
  union {
    HRESULT Status;
    MINIDUMP_THREAD_CALLBACK Thread;
    MINIDUMP_THREAD_EX_CALLBACK ThreadEx;
    MINIDUMP_MODULE_CALLBACK Module;
    MINIDUMP_INCLUDE_THREAD_CALLBACK IncludeThread;
    MINIDUMP_INCLUDE_MODULE_CALLBACK IncludeModule;
    MINIDUMP_IO_CALLBACK Io;
    MINIDUMP_READ_MEMORY_FAILURE_CALLBACK ReadMemoryFailure;
    ULONG SecondaryFlags;
    MINIDUMP_VM_QUERY_CALLBACK VmQuery;
    MINIDUMP_VM_PRE_READ_CALLBACK VmPreRead;
    MINIDUMP_VM_POST_READ_CALLBACK VmPostRead;
  };
} MINIDUMP_CALLBACK_INPUT, *PMINIDUMP_CALLBACK_INPUT;


typedef BOOL(CALLBACK* MINIDUMP_CALLBACK_ROUTINE)(PVOID CallbackParam, PMINIDUMP_CALLBACK_INPUT CallbackInput,
                                                  PMINIDUMP_CALLBACK_OUTPUT CallbackOutput);

typedef struct _MINIDUMP_CALLBACK_INFORMATION {
  MINIDUMP_CALLBACK_ROUTINE CallbackRoutine;
  PVOID CallbackParam;
} MINIDUMP_CALLBACK_INFORMATION, *PMINIDUMP_CALLBACK_INFORMATION;

#define SNAPDUMP_MD_AT(type, field, off) \
  SNAPDUMP_WIN_STATIC_ASSERT(offsetof(type, field) == (off), #type "." #field)
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(MINIDUMP_EXCEPTION_INFORMATION) == 16, "MINIDUMP_EXCEPTION_INFORMATION");
SNAPDUMP_MD_AT(MINIDUMP_EXCEPTION_INFORMATION, ExceptionPointers, 4);
SNAPDUMP_MD_AT(MINIDUMP_EXCEPTION_INFORMATION, ClientPointers, 12);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(MINIDUMP_EXCEPTION_INFORMATION64) == 24, "MINIDUMP_EXCEPTION_INFORMATION64");
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(MINIDUMP_USER_STREAM) == 16, "MINIDUMP_USER_STREAM");
SNAPDUMP_MD_AT(MINIDUMP_USER_STREAM, Buffer, 8);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(MINIDUMP_USER_STREAM_INFORMATION) == 12, "MINIDUMP_USER_STREAM_INFORMATION");
SNAPDUMP_MD_AT(MINIDUMP_USER_STREAM_INFORMATION, UserStreamArray, 4);
SNAPDUMP_WIN_STATIC_ASSERT(sizeof(MINIDUMP_CALLBACK_INFORMATION) == 16, "MINIDUMP_CALLBACK_INFORMATION");
SNAPDUMP_MD_AT(MINIDUMP_IO_CALLBACK, Offset, 8);
SNAPDUMP_MD_AT(MINIDUMP_IO_CALLBACK, BufferBytes, 24);
SNAPDUMP_MD_AT(MINIDUMP_VM_POST_READ_CALLBACK, Completed, 20);
SNAPDUMP_MD_AT(MINIDUMP_MODULE_CALLBACK, BaseOfImage, 8);
SNAPDUMP_MD_AT(MINIDUMP_MODULE_CALLBACK, VersionInfo, 28);
SNAPDUMP_MD_AT(MINIDUMP_MODULE_CALLBACK, CvRecord, 80);
SNAPDUMP_MD_AT(MINIDUMP_THREAD_CALLBACK, Context, 16);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_INPUT, CallbackType, 16);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_INPUT, Status, 32);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_OUTPUT, MemorySize, 8);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_OUTPUT, Cancel, 4);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_OUTPUT, Continue, 48);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_OUTPUT, VmQueryResult, 4);
SNAPDUMP_MD_AT(MINIDUMP_CALLBACK_OUTPUT, VmReadBytesCompleted, 4);
#undef SNAPDUMP_MD_AT

#ifdef __cplusplus
extern "C" {
#endif

BOOL WINAPI MiniDumpWriteDump(HANDLE hProcess, DWORD ProcessId, HANDLE hFile, MINIDUMP_TYPE DumpType,
                              PMINIDUMP_EXCEPTION_INFORMATION ExceptionParam,
                              PMINIDUMP_USER_STREAM_INFORMATION UserStreamParam,
                              PMINIDUMP_CALLBACK_INFORMATION CallbackParam);

BOOL WINAPI MiniDumpReadDumpStream(PVOID BaseOfDump, ULONG StreamNumber, PMINIDUMP_DIRECTORY* Dir,
                                   PVOID* StreamPointer, ULONG* StreamSize);

#ifdef __cplusplus
}
#endif

#endif /* SNAPDUMP_WIN_MINIDUMPAPISET_H */
