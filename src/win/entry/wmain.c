/* The entry of a program written for Windows with `int wmain(int argc, wchar_t* argv[])` (or the
 * three-argument form with envp): a main that converts the arguments and the environment from
 * UTF-8 to wchar_t and calls wmain, as the Microsoft C runtime does for such a program.
 *
 * It lives in a library of its own, libsnapdump_wmain.a, which snapdump-win's pkg-config and
 * CMake target link after the program: the linker takes this main only while the program has
 * none (an archive member is pulled in for a symbol still undefined), and it is weak, so a
 * program's own main wins wherever the library comes on the command line. wmain is a weak
 * reference: a program with neither gets a message, not a link error in a library it never
 * asked for. */
#include <stdio.h>
#include <wchar.h>

#include "win/wide_args.h"

extern int wmain(int argc, wchar_t** argv, wchar_t** envp) __attribute__((weak));

/* Live as long as the program, as argv does. External, so that the stores stay (a static the
 * compiler sees no other reader of may be dropped) and leak checkers see the blocks reachable. */
wchar_t** snapdump_win_wargv;
wchar_t** snapdump_win_wenvp;

__attribute__((weak)) int main(int argc, char** argv, char** envp) {
  if (!wmain) {
    fprintf(stderr,
            "%s: the program defines neither main nor wmain (in C++, wmain needs C linkage: "
            "include <windows.h> before defining it, or declare it extern \"C\")\n",
            argc > 0 ? argv[0] : "program");
    return 127;
  }
  snapdump_win_wargv = snapdump_win_wide_strings(argv);
  snapdump_win_wenvp = snapdump_win_wide_strings(envp);
  if (!snapdump_win_wargv || !snapdump_win_wenvp) {
    fprintf(stderr, "%s: out of memory converting the arguments for wmain\n", argc > 0 ? argv[0] : "program");
    return 127;
  }
  /* The two-argument wmain ignores the third, as with the Microsoft runtime. */
  return wmain(argc, snapdump_win_wargv, snapdump_win_wenvp);
}
