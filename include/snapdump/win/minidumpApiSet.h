/* The spelling Microsoft code uses: #include <minidumpApiSet.h>. */
#include "minidumpapiset.h"
