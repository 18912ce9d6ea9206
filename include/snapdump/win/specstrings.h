/* <specstrings.h>: the annotations header older Windows code includes; it holds the SAL 1 and
 * SAL 2 annotations of <sal.h>. */
#include "sal.h"
