/* The minidump part of <dbghelp.h>: DbgHelp declares MiniDumpWriteDump and the MINIDUMP_*
 * types through minidumpapiset.h. Symbol APIs (Sym*, StackWalk) are not provided. */
#ifndef SNAPDUMP_WIN_DBGHELP_H
#define SNAPDUMP_WIN_DBGHELP_H
#include "windows.h"
#include "minidumpapiset.h"
#endif /* SNAPDUMP_WIN_DBGHELP_H */
