/* A live-process dump through the wide-string entry points, as UNICODE Windows code writes it:
 * CreateFile is CreateFileW and the path is an L"" literal. MiniDumpWriteDump is given the
 * process handle itself (no callback), so it captures the process first. */
#define UNICODE
#include <windows.h>
#include <dbghelp.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PID   (writes live.dmp in the current directory)\n", argv[0]);
        return 2;
    }
    DWORD pid = (DWORD)strtoul(argv[1], NULL, 10);
    HANDLE process = OpenProcess(PROCESS_QUERY_INFORMATION | PROCESS_VM_READ, FALSE, pid);
    if (!process) {
        fprintf(stderr, "OpenProcess failed: %u\n", GetLastError());
        return 1;
    }
    HANDLE file = CreateFile(L"live.dmp", GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
                             FILE_ATTRIBUTE_NORMAL, NULL);
    if (file == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "CreateFile failed: %u\n", GetLastError());
        return 1;
    }
    BOOL ok = MiniDumpWriteDump(process, pid, file,
                                (MINIDUMP_TYPE)(MiniDumpWithThreadInfo | MiniDumpWithHandleData), NULL, NULL, NULL);
    if (!ok) fprintf(stderr, "MiniDumpWriteDump failed: HRESULT 0x%08x\n", GetLastError());
    CloseHandle(file);
    CloseHandle(process);
    return ok ? 0 : 1;
}
