/* The spelling Microsoft code uses: #include <Windows.h>. */
#include "windows.h"
