#include "target_seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <vector>

namespace sdtarget {

const char* const kSeccompModes =
    "none | allow (a filter that refuses only personality()) | kill-clone (clone kills the process) | "
    "kill-clone-vm (clone with CLONE_VM kills the process) | errno-clone (clone fails with EPERM) | "
    "trap-wait4 (wait4 raises SIGSYS)";

namespace {

constexpr uint32_t kNr = offsetof(seccomp_data, nr);
constexpr uint32_t kArg0Low = offsetof(seccomp_data, args);  // little-endian: the low word first

sock_filter load(uint32_t offset) { return BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset); }
sock_filter ret(uint32_t action) { return BPF_STMT(BPF_RET | BPF_K, action); }
// If A == value, run the next instruction, else skip it.
sock_filter if_equal(uint32_t value) { return BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1); }

std::vector<sock_filter> program_for(const std::string& mode) {
  if (mode == "allow") return {load(kNr), if_equal(SYS_personality), ret(SECCOMP_RET_ERRNO | EPERM), ret(SECCOMP_RET_ALLOW)};
  if (mode == "kill-clone") return {load(kNr), if_equal(SYS_clone), ret(SECCOMP_RET_KILL_PROCESS), ret(SECCOMP_RET_ALLOW)};
  if (mode == "errno-clone") return {load(kNr), if_equal(SYS_clone), ret(SECCOMP_RET_ERRNO | EPERM), ret(SECCOMP_RET_ALLOW)};
  if (mode == "trap-wait4") return {load(kNr), if_equal(SYS_wait4), ret(SECCOMP_RET_TRAP), ret(SECCOMP_RET_ALLOW)};
  if (mode == "kill-clone-vm") {
    // nr == clone && (args[0] & CLONE_VM) -> kill
    return {load(kNr),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
            load(kArg0Low),
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_VM, 0, 1),
            ret(SECCOMP_RET_KILL_PROCESS),
            ret(SECCOMP_RET_ALLOW)};
  }
  return {};
}

}  // namespace

bool is_seccomp_mode(const std::string& mode) { return mode == "none" || !program_for(mode).empty(); }

bool install_seccomp(const std::string& mode) {
  if (mode == "none") return true;
  std::vector<sock_filter> program = program_for(mode);
  if (program.empty()) {
    errno = EINVAL;
    return false;
  }
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return false;
  return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog) == 0;
}

}  // namespace sdtarget
