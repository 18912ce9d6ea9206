/* The example of "Generate Dump File from a Process Snapshot" (../shared/seeds/001), assembled
 * into a whole program. The document's code is kept as written except for its own typos: the
 * "&amp;" HTML escapes are "&", and "BOOL Success MiniDumpWriteDump (" lacks its "=".
 * Added around it: a main wrapper that takes a PID and an output path, opens the process and
 * the file, and reports the result (the document leaves ProcessHandle, ProcessId, FileHandle
 * and DumpType to the reader). */
#include <windows.h>
#include <processsnapshot.h>
#include <dbghelp.h>

#include <stdio.h>
#include <stdlib.h>

BOOL CALLBACK MyMiniDumpWriteDumpCallback(
  __in     PVOID CallbackParam,
  __in     const PMINIDUMP_CALLBACK_INPUT CallbackInput,
  __inout  PMINIDUMP_CALLBACK_OUTPUT CallbackOutput
)
{
    UNREFERENCED_PARAMETER(CallbackParam);
    switch (CallbackInput->CallbackType)
    {
        case 16: // IsProcessSnapshotCallback
            CallbackOutput->Status = S_FALSE;
            break;
    }
    return TRUE;
}

int main(int argc, char** argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PID OUTPUT.dmp\n", argv[0]);
        return 2;
    }
    DWORD ProcessId = (DWORD)strtoul(argv[1], NULL, 10);
    MINIDUMP_TYPE DumpType = MiniDumpWithFullMemory;
    MINIDUMP_CALLBACK_INFORMATION CallbackInfo;

    HANDLE ProcessHandle = OpenProcess(PROCESS_ALL_ACCESS, FALSE, ProcessId);
    if (ProcessHandle == NULL) {
        fprintf(stderr, "OpenProcess(%u) failed: %u\n", ProcessId, GetLastError());
        return 1;
    }
    HANDLE FileHandle = CreateFileA(argv[2], GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (FileHandle == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "CreateFile(%s) failed: %u\n", argv[2], GetLastError());
        CloseHandle(ProcessHandle);
        return 1;
    }

    /* ---- the document's code ---- */
    DWORD CaptureFlags = (DWORD)PSS_CAPTURE_VA_CLONE
                                | PSS_CAPTURE_HANDLES
                                | PSS_CAPTURE_HANDLE_NAME_INFORMATION
                                | PSS_CAPTURE_HANDLE_BASIC_INFORMATION
                                | PSS_CAPTURE_HANDLE_TYPE_SPECIFIC_INFORMATION
                                | PSS_CAPTURE_HANDLE_TRACE
                                | PSS_CAPTURE_THREADS
                                | PSS_CAPTURE_THREAD_CONTEXT
                                | PSS_CAPTURE_THREAD_CONTEXT_EXTENDED
                                | PSS_CREATE_BREAKAWAY
                                | PSS_CREATE_BREAKAWAY_OPTIONAL
                                | PSS_CREATE_USE_VM_ALLOCATIONS
                                | PSS_CREATE_RELEASE_SECTION;

    HANDLE SnapshotHandle;
    DWORD dwResultCode = PssCaptureSnapshot (ProcessHandle,
                                             CaptureFlags,
                                             CONTEXT_ALL,
                                             &SnapshotHandle);

    // Error handling omitted. Check that dwResultCode is ERROR_SUCCESS.
    if (dwResultCode != ERROR_SUCCESS) {
        fprintf(stderr, "PssCaptureSnapshot failed: %u\n", dwResultCode);
        return 1;
    }

    ZeroMemory (&CallbackInfo, sizeof (MINIDUMP_CALLBACK_INFORMATION));
    CallbackInfo.CallbackRoutine = MyMiniDumpWriteDumpCallback;
    CallbackInfo.CallbackParam = NULL;

    BOOL Success = MiniDumpWriteDump ((HANDLE) SnapshotHandle,
                                ProcessId,
                                FileHandle,
                                DumpType,
                                NULL,
                                NULL,
                                &CallbackInfo);

    PssFreeSnapshot (GetCurrentProcess(), SnapshotHandle);
    /* ---- end of the document's code ---- */

    if (!Success) {
        fprintf(stderr, "MiniDumpWriteDump failed: HRESULT 0x%08x\n", GetLastError());
    }
    CloseHandle(FileHandle);
    CloseHandle(ProcessHandle);
    if (Success) printf("%s\n", argv[2]);
    return Success ? 0 : 1;
}
