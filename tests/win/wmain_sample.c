/* A program shaped like Microsoft's console samples: <windows.h>, SAL on the helper, and
 * `int __cdecl wmain(int argc, wchar_t* argv[])` as its only entry point. Built as the README
 * says, `cc prog.c $(pkg-config --cflags --libs snapdump-win)`, it gets its main from snapdump-win
 * (libsnapdump_wmain.a). It prints each argument's code points in hex, one argument a line, and
 * exits with argc, so the test sees exactly what wmain received. */
#include <windows.h>
#include <stdio.h>

static void PrintCodePoints(_In_z_ const wchar_t* text)
{
    for (const wchar_t* p = text; *p != L'\0'; ++p) {
        printf(p == text ? "%lx" : " %lx", (unsigned long)*p);
    }
    printf("\n");
}

int __cdecl wmain(int argc, wchar_t* argv[])
{
    for (int i = 1; i < argc; ++i) {
        PrintCodePoints(argv[i]);
    }
    return argc;
}
