/* The arguments and environment of a program written with wmain, as wchar_t strings: called by
 * the main of src/win/entry/wmain.c. C, so that main can be a C function. */
#ifndef SNAPDUMP_SRC_WIN_WIDE_ARGS_H
#define SNAPDUMP_SRC_WIN_WIDE_ARGS_H

#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A NULL-terminated copy of the NULL-terminated `strings`, each converted from UTF-8 as the W
 * entry points convert names (an invalid byte becomes U+FFFD). The copy lives as long as the
 * program; NULL if memory runs out. */
wchar_t** snapdump_win_wide_strings(char** strings);

#ifdef __cplusplus
}
#endif

#endif /* SNAPDUMP_SRC_WIN_WIDE_ARGS_H */
