/* Every Windows-compatible header, compiled as C11 with -Wall -Wextra -Werror: the headers are
 * plain C, under both spellings Microsoft code uses. The sizes reported here are compared with
 * the C++ view in headers_test.cpp, so C and C++ agree on every layout. */
#include <windows.h>
#include <Windows.h>
#include <processsnapshot.h>
#include <ProcessSnapshot.h>
#include <minidumpapiset.h>
#include <minidumpApiSet.h>
#include <dbghelp.h>
#include <DbgHelp.h>

#include "headers_c.h"

size_t snapdump_win_c_sizeof(const char* name) {
#define SIZE_OF(type) \
  if (strcmp(name, #type) == 0) return sizeof(type)
  SIZE_OF(CONTEXT);
  SIZE_OF(PSS_PROCESS_INFORMATION);
  SIZE_OF(PSS_HANDLE_ENTRY);
  SIZE_OF(PSS_THREAD_ENTRY);
  SIZE_OF(PSS_VA_SPACE_ENTRY);
  SIZE_OF(PSS_AUXILIARY_PAGE_ENTRY);
  SIZE_OF(MINIDUMP_CALLBACK_INPUT);
  SIZE_OF(MINIDUMP_CALLBACK_OUTPUT);
  SIZE_OF(MINIDUMP_THREAD_CALLBACK);
  SIZE_OF(MINIDUMP_MODULE_CALLBACK);
  SIZE_OF(MINIDUMP_EXCEPTION_INFORMATION);
  SIZE_OF(MINIDUMP_MISC_INFO_5);
  SIZE_OF(MINIDUMP_SYSTEM_INFO);
  SIZE_OF(PSS_CAPTURE_FLAGS);
  SIZE_OF(PSS_HANDLE_FLAGS);
  SIZE_OF(PSS_OBJECT_TYPE);
  SIZE_OF(PSS_QUERY_INFORMATION_CLASS);
  SIZE_OF(PSS_WALK_INFORMATION_CLASS);
  SIZE_OF(PSS_DUPLICATE_FLAGS);
  SIZE_OF(PSS_PROCESS_FLAGS);
  SIZE_OF(PSS_THREAD_FLAGS);
  SIZE_OF(MINIDUMP_TYPE);
  SIZE_OF(MINIDUMP_CALLBACK_TYPE);
  SIZE_OF(MINIDUMP_STREAM_TYPE);
  SIZE_OF(MINIDUMP_HANDLE_OBJECT_INFORMATION_TYPE);
#undef SIZE_OF
  return 0;
}

unsigned long long snapdump_win_c_values(void) {
  /* The seed's flag expression, in C: an unsigned enumerator (0x80000000) mixes with a DWORD. */
  DWORD flags = (DWORD)PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLES | PSS_CREATE_RELEASE_SECTION;
  return (unsigned long long)flags + (unsigned long long)IsProcessSnapshotCallback;
}

/* The shape of the crash-handler code published for MiniDumpWriteDump, in C: a callback
 * declared with IN/CONST annotations that drops data segments in ModuleCallback, TCHAR file
 * names, an OR of MINIDUMP_TYPE values cast back to the enum, and a dump of this process. */
static BOOL CALLBACK crash_handler_callback(IN PVOID param, IN CONST PMINIDUMP_CALLBACK_INPUT input,
                                            IN OUT PMINIDUMP_CALLBACK_OUTPUT output)
{
    int* modules_seen = (int*)param;
    if (input == NULL || output == NULL) return FALSE;
    switch (input->CallbackType) {
    case ModuleCallback:
        ++*modules_seen;
        if (output->ModuleWriteFlags & ModuleWriteDataSeg) output->ModuleWriteFlags &= (~ModuleWriteDataSeg);
        return TRUE;
    case IncludeModuleCallback:
    case IncludeThreadCallback:
    case ThreadCallback:
    case ThreadExCallback:
        return TRUE;
    default:
        return FALSE;
    }
}

int snapdump_win_c_crash_handler(const char* path, void* pep_arg)
{
    LPEXCEPTION_POINTERS pep = (LPEXCEPTION_POINTERS)pep_arg;
    HANDLE file = CreateFile(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == NULL || file == INVALID_HANDLE_VALUE) return -1;
    MINIDUMP_EXCEPTION_INFORMATION mdei;
    mdei.ThreadId = GetCurrentThreadId();
    mdei.ExceptionPointers = pep;
    mdei.ClientPointers = FALSE;
    int modules_seen = 0;
    MINIDUMP_CALLBACK_INFORMATION mci;
    mci.CallbackRoutine = (MINIDUMP_CALLBACK_ROUTINE)crash_handler_callback;
    mci.CallbackParam = &modules_seen;
    MINIDUMP_TYPE mdt = (MINIDUMP_TYPE)(MiniDumpWithPrivateReadWriteMemory | MiniDumpWithDataSegs |
                                        MiniDumpWithHandleData | MiniDumpWithFullMemoryInfo |
                                        MiniDumpWithThreadInfo | MiniDumpWithUnloadedModules);
    BOOL ok = MiniDumpWriteDump(GetCurrentProcess(), GetCurrentProcessId(), file, mdt, pep ? &mdei : NULL, NULL, &mci);
    DWORD error = ok ? 0 : GetLastError();
    CloseHandle(file);
    /* The callback ran in the dump helper (docs/win-api.md): its count stays there. */
    return ok ? 0 : (int)error;
}

unsigned long snapdump_win_c_walk_class(void* snapshot, int information_class, void* marker, void* buffer,
                                        unsigned long length)
{
    return PssWalkSnapshot((HPSS)snapshot, (PSS_WALK_INFORMATION_CLASS)information_class, (HPSSWALK)marker, buffer,
                           (DWORD)length);
}

unsigned long snapdump_win_c_query_class(void* snapshot, int information_class, void* buffer, unsigned long length)
{
    return PssQuerySnapshot((HPSS)snapshot, (PSS_QUERY_INFORMATION_CLASS)information_class, buffer, (DWORD)length);
}
