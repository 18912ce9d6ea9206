// --seccomp MODE: a seccomp filter on every thread of the target, installed once its threads
// run, so tests see what snapdump does with a sandboxed process: a clone() or wait4() injected
// into it runs through the filter like any call the target makes.
#pragma once

#include <string>

namespace sdtarget {

// The modes, for the usage text.
extern const char* const kSeccompModes;
// True if `mode` is one of kSeccompModes.
bool is_seccomp_mode(const std::string& mode);
// Installs the filter of `mode` on every thread (SECCOMP_FILTER_FLAG_TSYNC). Returns false with
// errno set on failure. "none" installs nothing.
bool install_seccomp(const std::string& mode);

}  // namespace sdtarget
