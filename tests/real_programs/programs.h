// The real programs of the tier (tests/real_programs/) and what the tests expect of each.
#pragma once

#include <string>

#include "real_programs/program_run.h"

namespace snapdump::testing {

inline const std::string kProgramsDir = SNAPDUMP_SOURCE_DIR "/tests/real_programs/";

inline const ProgramSpec kPython = {
    "Python", {"/usr/bin/python3", kProgramsDir + "threads.py"},
    // Debian builds libpython into the interpreter (/usr/bin/python3.11 links no libpython3.11.so):
    // the interpreter's code, and the names LLDB gives it, are in that executable.
    "python3.11", {"_PyEval_EvalFrameDefault"}, 60000};

inline const ProgramSpec kNode = {"Node", {"/usr/bin/node", kProgramsDir + "workers.js"}, "node", {"uv_run"}, 60000};

// The JVM compiles the single-file program before it runs it: seconds, more on a busy machine.
inline const ProgramSpec kJava = {
    "Java", {"/usr/bin/java", "-Xms512m", "-Xmx512m", kProgramsDir + "Heap.java"}, "libjvm.so",
    // Every Java thread starts in thread_native_entry; the sd-wait and sd-sleep threads block in
    // JVM_MonitorWait and JVM_Sleep.
    {"thread_native_entry", "JVM_MonitorWait", "JVM_Sleep"}, 180000};

}  // namespace snapdump::testing
