#include "linux/syscall_restart.h"

#include <sys/syscall.h>

namespace snapdump::os {

bool interrupted_by_stop(long nr) {
  switch (nr) {
    case SYS_epoll_wait:
    case SYS_epoll_pwait:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
    case SYS_semop:
    case SYS_semtimedop:
    case SYS_rt_sigtimedwait:
      return true;
    default:
      return false;
  }
}

}  // namespace snapdump::os
