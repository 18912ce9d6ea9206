// linux/syscall_injection.h find_syscall_gadget: a live process has a syscall instruction to
// inject through; one that exited meanwhile is said to have exited, not to lack the instruction.
#include "linux/syscall_injection.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory_resource>

#include <gtest/gtest.h>

#include "linux/procfs.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {

pid_t sleeping_child() {
  pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

TEST(SyscallGadget, ALiveProcessHasOne) {
  pid_t pid = sleeping_child();
  std::pmr::vector<Region> regions = read_maps(pid, false, std::pmr::get_default_resource(), std::pmr::get_default_resource());
  EXPECT_NE(find_syscall_gadget(pid, regions, std::pmr::get_default_resource()), 0u);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// The regions were read while the process lived; it died before the search (its memory map is
// gone, it is a zombie not yet reaped): the search must say it exited.
TEST(SyscallGadget, AProcessThatDiedBeforeTheSearchExited) {
  pid_t pid = sleeping_child();
  std::pmr::vector<Region> regions = read_maps(pid, false, std::pmr::get_default_resource(), std::pmr::get_default_resource());
  kill(pid, SIGKILL);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);  // a zombie now
  try {
    find_syscall_gadget(pid, regions, std::pmr::get_default_resource());
    ADD_FAILURE() << "a gadget was found in a dead process";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::process_exited) << e.what();
    EXPECT_NE(std::string(e.what()).find("exited during capture"), std::string::npos) << e.what();
  }
  waitpid(pid, nullptr, 0);
}

}  // namespace
}  // namespace snapdump::os
