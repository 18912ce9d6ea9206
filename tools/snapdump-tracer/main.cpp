// snapdump-tracer: the process through which snapdump ptraces the process it captures, so that
// snapdump being killed, stopped or starved of memory never reaches the target. Started by the
// library (src/linux/tracer_client.h); everything it does is in src/linux/tracer_server.h.
#include "linux/tracer_server.h"

int main(int argc, char** argv) { return snapdump::os::tracer_process_main(argc, argv); }
