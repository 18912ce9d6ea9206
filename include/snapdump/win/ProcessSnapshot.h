/* The spelling Microsoft code uses: #include <ProcessSnapshot.h>. */
#include "processsnapshot.h"
