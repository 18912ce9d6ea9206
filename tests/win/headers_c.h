/* The C side of the header test (headers_c.c). */
#pragma once
#include <stddef.h>
#ifdef __cplusplus
extern "C" {
#endif
size_t snapdump_win_c_sizeof(const char* name);
unsigned long long snapdump_win_c_values(void);
#ifdef __cplusplus
}
#endif
