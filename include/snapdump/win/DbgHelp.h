/* The spelling Microsoft code uses: #include <DbgHelp.h>. */
#include "dbghelp.h"
