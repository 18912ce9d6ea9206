/* Walks a process snapshot the way Windows code does: PssCaptureSnapshot with threads,
 * handles and the VA space, PssQuerySnapshot for the counts, one walk marker per walk, then
 * prints each thread (id, instruction pointer), each handle (type and name) and each region. */
#include <windows.h>
#include <processsnapshot.h>

#include <stdio.h>
#include <stdlib.h>

static void print_wide(const wchar_t* text, WORD bytes)
{
    for (WORD i = 0; text && i < bytes / sizeof(wchar_t); ++i) putwchar(text[i]);
}

int main(int argc, char** argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PID\n", argv[0]);
        return 2;
    }
    DWORD pid = (DWORD)strtoul(argv[1], NULL, 10);
    HANDLE process = OpenProcess(PROCESS_ALL_ACCESS, FALSE, pid);
    if (!process) {
        fprintf(stderr, "OpenProcess failed: %u\n", GetLastError());
        return 1;
    }
    HPSS snapshot = NULL;
    DWORD flags = PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_THREADS | PSS_CAPTURE_THREAD_CONTEXT | PSS_CAPTURE_HANDLES |
                  PSS_CAPTURE_HANDLE_NAME_INFORMATION | PSS_CAPTURE_HANDLE_BASIC_INFORMATION |
                  PSS_CAPTURE_VA_SPACE | PSS_CAPTURE_VA_SPACE_SECTION_INFORMATION;
    DWORD error = PssCaptureSnapshot(process, (PSS_CAPTURE_FLAGS)flags, CONTEXT_ALL, &snapshot);
    if (error != ERROR_SUCCESS) {
        fprintf(stderr, "PssCaptureSnapshot failed: %u\n", error);
        return 1;
    }

    PSS_THREAD_INFORMATION threads;
    PSS_HANDLE_INFORMATION handles;
    PSS_VA_SPACE_INFORMATION regions;
    PssQuerySnapshot(snapshot, PSS_QUERY_THREAD_INFORMATION, &threads, sizeof threads);
    PssQuerySnapshot(snapshot, PSS_QUERY_HANDLE_INFORMATION, &handles, sizeof handles);
    PssQuerySnapshot(snapshot, PSS_QUERY_VA_SPACE_INFORMATION, &regions, sizeof regions);
    printf("threads %u handles %u regions %u\n", threads.ThreadsCaptured, handles.HandlesCaptured,
           regions.RegionCount);

    HPSSWALK marker;
    PssWalkMarkerCreate(NULL, &marker);
    PSS_THREAD_ENTRY thread;
    while (PssWalkSnapshot(snapshot, PSS_WALK_THREADS, marker, &thread, sizeof thread) == ERROR_SUCCESS) {
        printf("thread %u rip %#llx\n", thread.ThreadId,
               thread.ContextRecord ? (unsigned long long)thread.ContextRecord->Rip : 0ull);
    }
    PssWalkMarkerSeekToBeginning(marker);
    PSS_HANDLE_ENTRY handle;
    while (PssWalkSnapshot(snapshot, PSS_WALK_HANDLES, marker, &handle, sizeof handle) == ERROR_SUCCESS) {
        printf("handle %lld ", (long long)(INT_PTR)handle.Handle);
        print_wide(handle.TypeName, handle.TypeNameLength);
        printf(" ");
        print_wide(handle.ObjectName, handle.ObjectNameLength);
        printf("\n");
    }
    PssWalkMarkerSeekToBeginning(marker);
    PSS_VA_SPACE_ENTRY region;
    while (PssWalkSnapshot(snapshot, PSS_WALK_VA_SPACE, marker, &region, sizeof region) == ERROR_SUCCESS) {
        printf("region %p %#llx protect %#x type %#x ", region.BaseAddress, (unsigned long long)region.RegionSize,
               region.Protect, region.Type);
        print_wide(region.MappedFileName, region.MappedFileNameLength);
        printf("\n");
    }
    PssWalkMarkerFree(marker);
    PssFreeSnapshot(GetCurrentProcess(), snapshot);
    CloseHandle(process);
    return 0;
}
