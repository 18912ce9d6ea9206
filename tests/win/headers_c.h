/* The C side of the header test (headers_c.c). */
#pragma once
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
size_t snapdump_win_c_sizeof(const char* name);
unsigned long long snapdump_win_c_values(void);
// Dumps this process as published crash-handler code does; 0 or the HRESULT of the failure.
// `pep` is an LPEXCEPTION_POINTERS (void* here so this header needs no Windows types).
int snapdump_win_c_crash_handler(const char* path, void* pep);
// PssWalkSnapshot and PssQuerySnapshot called from C with any int as the information class, as C
// code may (a C enum is an int). `snapshot` is an HPSS, `marker` an HPSSWALK.
unsigned long snapdump_win_c_walk_class(void* snapshot, int information_class, void* marker, void* buffer,
                                        unsigned long length);
unsigned long snapdump_win_c_query_class(void* snapshot, int information_class, void* buffer, unsigned long length);
#ifdef __cplusplus
}
#endif
