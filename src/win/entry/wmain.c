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

/* Live as long as the program, as argv does (and reachable, for leak checkers). */
static wchar_t** wide_argv;
static wchar_t** wide_envp;

__attribute__((weak)) int main(int argc, char** argv, char** envp) {
  if (!wmain) {
    fprintf(stderr,
            "%s: the program defines neither main nor wmain (in C++, wmain needs C linkage: "
            "include <windows.h> before defining it, or declare it extern \"C\")\n",
            argc > 0 ? argv[0] : "program");
    return 127;
  }
  wide_argv = snapdump_win_wide_strings(argv);
  wide_envp = snapdump_win_wide_strings(envp);
  if (!wide_argv || !wide_envp) {
    fprintf(stderr, "%s: out of memory converting the arguments for wmain\n", argc > 0 ? argv[0] : "program");
    return 127;
  }
  /* The two-argument wmain ignores the third, as with the Microsoft runtime. */
  return wmain(argc, wide_argv, wide_envp);
}
