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
#undef SIZE_OF
  return 0;
}

unsigned long long snapdump_win_c_values(void) {
  /* The seed's flag expression, in C: an unsigned enumerator (0x80000000) mixes with a DWORD. */
  DWORD flags = (DWORD)PSS_CAPTURE_VA_CLONE | PSS_CAPTURE_HANDLES | PSS_CREATE_RELEASE_SECTION;
  return (unsigned long long)flags + (unsigned long long)IsProcessSnapshotCallback;
}
