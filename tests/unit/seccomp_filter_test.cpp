// The classic-BPF evaluator of seccomp filters, instruction by instruction against values worked
// out by hand, and check_seccomp on real processes that installed filters (strict mode too).
#include "linux/seccomp_filter.h"

#include <linux/audit.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "linux/ptrace_thread.h"

namespace snapdump::os {
namespace {

constexpr uint32_t kNr = offsetof(seccomp_data, nr);
constexpr uint32_t kArch = offsetof(seccomp_data, arch);
constexpr uint32_t kIpLow = offsetof(seccomp_data, instruction_pointer);
constexpr uint32_t kArg1Low = offsetof(seccomp_data, args) + 8;
constexpr uint32_t kArg1High = offsetof(seccomp_data, args) + 12;

sock_filter stmt(uint16_t code, uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) { return BPF_JUMP(code, k, jt, jf); }

uint32_t run(const std::vector<sock_filter>& p, const seccomp_data& d) { return run_seccomp_program(p, d); }

seccomp_data call(long nr, uint64_t arg1 = 0) {
  SyscallArgs args{0, arg1, 0, 0, 0, 0};
  return injected_call(nr, args, 0x7000);
}

TEST(SeccompProgram, InjectedCallCarriesNumberArchIpAndArgs) {
  seccomp_data d = injected_call(SYS_wait4, {11, 22, 33, 44, 55, 66}, 0x1000);
  EXPECT_EQ(d.nr, SYS_wait4);
  EXPECT_EQ(d.arch, static_cast<uint32_t>(AUDIT_ARCH_X86_64));
  EXPECT_EQ(d.instruction_pointer, 0x1002u);  // after the syscall instruction
  EXPECT_EQ(d.args[0], 11u);
  EXPECT_EQ(d.args[5], 66u);
}

TEST(SeccompProgram, LoadsEveryFieldOfSeccompData) {
  seccomp_data d = injected_call(SYS_clone, {0, 0x1111222233334444ull, 0, 0, 0, 0}, 0xabc0);
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, kNr), stmt(BPF_RET | BPF_A, 0)}, d), static_cast<uint32_t>(SYS_clone));
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, kArch), stmt(BPF_RET | BPF_A, 0)}, d),
            static_cast<uint32_t>(AUDIT_ARCH_X86_64));
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, kIpLow), stmt(BPF_RET | BPF_A, 0)}, d), 0xabc2u);
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, kArg1Low), stmt(BPF_RET | BPF_A, 0)}, d), 0x33334444u);
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, kArg1High), stmt(BPF_RET | BPF_A, 0)}, d), 0x11112222u);
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_LEN, 0), stmt(BPF_RET | BPF_A, 0)}, d), 64u);
  EXPECT_EQ(run({stmt(BPF_LDX | BPF_W | BPF_LEN, 0), stmt(BPF_MISC | BPF_TXA, 0), stmt(BPF_RET | BPF_A, 0)}, d), 64u);
}

TEST(SeccompProgram, ArithmeticAndScratchMemory) {
  seccomp_data d = call(0);
  auto with_a = [&](std::vector<sock_filter> ops) {
    std::vector<sock_filter> p{stmt(BPF_LD | BPF_IMM, 100), stmt(BPF_LDX | BPF_IMM, 7)};
    p.insert(p.end(), ops.begin(), ops.end());
    p.push_back(stmt(BPF_RET | BPF_A, 0));
    return run(p, d);
  };
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_ADD | BPF_K, 5)}), 105u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_ADD | BPF_X, 0)}), 107u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_SUB | BPF_K, 1)}), 99u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_SUB | BPF_X, 0)}), 93u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_MUL | BPF_K, 3)}), 300u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_MUL | BPF_X, 0)}), 700u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_DIV | BPF_K, 8)}), 12u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_DIV | BPF_X, 0)}), 14u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_AND | BPF_K, 0x0f)}), 4u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_AND | BPF_X, 0)}), 4u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_OR | BPF_K, 1)}), 101u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_OR | BPF_X, 0)}), 103u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_XOR | BPF_K, 100)}), 0u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_XOR | BPF_X, 0)}), 99u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_LSH | BPF_K, 2)}), 400u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_LSH | BPF_X, 0)}), 12800u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_RSH | BPF_K, 2)}), 25u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_RSH | BPF_X, 0)}), 0u);
  EXPECT_EQ(with_a({stmt(BPF_ALU | BPF_NEG, 0)}), 0u - 100u);
  EXPECT_EQ(with_a({stmt(BPF_MISC | BPF_TAX, 0), stmt(BPF_ALU | BPF_ADD | BPF_X, 0)}), 200u);
  EXPECT_EQ(with_a({stmt(BPF_ST, 3), stmt(BPF_LD | BPF_IMM, 1), stmt(BPF_LD | BPF_MEM, 3)}), 100u);
  EXPECT_EQ(with_a({stmt(BPF_STX, 15), stmt(BPF_LDX | BPF_MEM, 15), stmt(BPF_MISC | BPF_TXA, 0)}), 7u);
  // Classic BPF ends a program that divides by a zero X with 0: SECCOMP_RET_KILL_THREAD.
  EXPECT_EQ(with_a({stmt(BPF_LDX | BPF_IMM, 0), stmt(BPF_ALU | BPF_DIV | BPF_X, 0)}), 0u);
}

TEST(SeccompProgram, EveryConditionalJumpBothWays) {
  // A = arg1's low word; X = 10; each test returns 1 when taken, 2 when not.
  auto test = [&](uint16_t op, uint32_t k, uint64_t arg) {
    return run({stmt(BPF_LDX | BPF_IMM, 10), stmt(BPF_LD | BPF_W | BPF_ABS, kArg1Low), jump(BPF_JMP | op, k, 0, 1),
                stmt(BPF_RET | BPF_K, 1), stmt(BPF_RET | BPF_K, 2)},
               call(SYS_read, arg));
  };
  struct Case {
    uint16_t op;
    uint32_t k;
    uint64_t arg;
    uint32_t want;
  } cases[] = {{BPF_JEQ | BPF_K, 5, 5, 1},         {BPF_JEQ | BPF_K, 5, 6, 2},         {BPF_JEQ | BPF_X, 0, 10, 1},
               {BPF_JGT | BPF_K, 5, 6, 1},         {BPF_JGT | BPF_K, 5, 5, 2},         {BPF_JGT | BPF_X, 0, 11, 1},
               {BPF_JGE | BPF_K, 5, 5, 1},         {BPF_JGE | BPF_K, 5, 4, 2},         {BPF_JGE | BPF_X, 0, 9, 2},
               {BPF_JSET | BPF_K, 0x100, 0x300, 1}, {BPF_JSET | BPF_K, 0x100, 0x200, 2}, {BPF_JSET | BPF_X, 0, 2, 1}};
  for (const Case& c : cases) EXPECT_EQ(test(c.op, c.k, c.arg), c.want) << std::hex << c.op << " " << c.k << " " << c.arg;
  EXPECT_EQ(run({stmt(BPF_JMP | BPF_JA, 1), stmt(BPF_RET | BPF_K, 1), stmt(BPF_RET | BPF_K, 2)}, call(0)), 2u);
}

TEST(SeccompProgram, WhatTheKernelWouldNotLoadCountsAsKillProcess) {
  const uint32_t kill = SECCOMP_RET_KILL_PROCESS;
  seccomp_data d = call(SYS_read);
  EXPECT_EQ(run({}, d), kill);
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, 2), stmt(BPF_RET | BPF_A, 0)}, d), kill);   // unaligned
  EXPECT_EQ(run({stmt(BPF_LD | BPF_W | BPF_ABS, 64), stmt(BPF_RET | BPF_A, 0)}, d), kill);  // past the end
  EXPECT_EQ(run({stmt(BPF_LD | BPF_H | BPF_ABS, 0), stmt(BPF_RET | BPF_A, 0)}, d), kill);   // not seccomp's
  EXPECT_EQ(run({stmt(BPF_LD | BPF_IMM, 1)}, d), kill);                                     // no return
  EXPECT_EQ(run({stmt(BPF_JMP | BPF_JA, 5), stmt(BPF_RET | BPF_K, 1)}, d), kill);            // jumps out
  EXPECT_EQ(run({jump(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 9), stmt(BPF_RET | BPF_K, 1)}, d), kill);
  EXPECT_EQ(run({stmt(BPF_ALU | BPF_DIV | BPF_K, 0), stmt(BPF_RET | BPF_A, 0)}, d), kill);
  EXPECT_EQ(run({stmt(BPF_LD | BPF_MEM, 16), stmt(BPF_RET | BPF_A, 0)}, d), kill);
  EXPECT_EQ(run({stmt(BPF_ALU | BPF_LSH | BPF_K, 32), stmt(BPF_RET | BPF_A, 0)}, d), kill);
}

// A child that installs `filters` (last one last) or strict mode, says so, and blocks in read().
class FilteredChild {
 public:
  explicit FilteredChild(std::vector<std::vector<sock_filter>> filters, bool strict = false) {
    int hold[2], ready[2];
    if (pipe(hold) != 0 || pipe(ready) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(hold[1]);
      close(ready[0]);
      prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      for (auto& f : filters) {
        sock_fprog prog{static_cast<unsigned short>(f.size()), f.data()};
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) _exit(3);
      }
      if (strict && prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) _exit(4);
      char c = 'r';
      if (write(ready[1], &c, 1) != 1) syscall(SYS_exit, 5);
      for (;;) {
        if (read(hold[0], &c, 1) <= 0) syscall(SYS_exit, 0);  // strict mode allows exit, not exit_group
      }
    }
    close(hold[0]);
    close(ready[1]);
    hold_ = hold[1];
    char c = 0;
    if (read(ready[0], &c, 1) != 1) {  // the child failed to install its filters
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    close(ready[0]);
  }
  ~FilteredChild() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (hold_ >= 0) close(hold_);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
};

SeccompCheck check_stopped(pid_t pid, const seccomp_data& d) {
  TracedThread t(pid);
  EXPECT_TRUE(t.seize());
  EXPECT_TRUE(t.interrupt());
  EXPECT_EQ(t.wait_stop(std::chrono::milliseconds(5000)), StopResult::stopped);
  SeccompCheck c = check_seccomp(pid, pid, d);
  t.release();
  return c;
}

std::vector<sock_filter> on_nr(long nr, uint32_t action) {
  return {stmt(BPF_LD | BPF_W | BPF_ABS, kNr), jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1),
          stmt(BPF_RET | BPF_K, action), stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
}

TEST(SeccompCheck, AProcessWithoutFiltersAllowsEverything) {
  FilteredChild child({});
  ASSERT_GT(child.pid(), 0);
  EXPECT_EQ(check_stopped(child.pid(), call(SYS_clone)).verdict, SeccompVerdict::allowed);
}

TEST(SeccompCheck, EachActionGivesItsVerdict) {
  struct Case {
    uint32_t action;
    SeccompVerdict verdict;
  } cases[] = {{SECCOMP_RET_ALLOW, SeccompVerdict::allowed},       {SECCOMP_RET_LOG, SeccompVerdict::allowed},
               {SECCOMP_RET_ERRNO | EPERM, SeccompVerdict::refused}, {SECCOMP_RET_TRACE, SeccompVerdict::refused},
               {SECCOMP_RET_TRAP, SeccompVerdict::harmful},        {SECCOMP_RET_KILL_THREAD, SeccompVerdict::harmful},
               {SECCOMP_RET_KILL_PROCESS, SeccompVerdict::harmful}};
  for (const Case& c : cases) {
    FilteredChild child({on_nr(SYS_clone, c.action)});
    ASSERT_GT(child.pid(), 0);
    SeccompCheck got = check_stopped(child.pid(), call(SYS_clone));
    EXPECT_EQ(got.verdict, c.verdict) << std::hex << c.action;
    EXPECT_EQ(got.action, c.action) << std::hex << c.action;
    // The filter acts on clone only: another call is allowed.
    EXPECT_EQ(check_stopped(child.pid(), call(SYS_wait4)).verdict, SeccompVerdict::allowed);
  }
}

TEST(SeccompCheck, TheMostRestrictiveOfSeveralFiltersWins) {
  // Installed first: ERRNO for clone; second: KILL_PROCESS for clone; third: TRAP for wait4.
  FilteredChild child({on_nr(SYS_clone, SECCOMP_RET_ERRNO | EPERM), on_nr(SYS_clone, SECCOMP_RET_KILL_PROCESS),
                       on_nr(SYS_wait4, SECCOMP_RET_TRAP)});
  ASSERT_GT(child.pid(), 0);
  SeccompCheck clone = check_stopped(child.pid(), call(SYS_clone));
  EXPECT_EQ(clone.verdict, SeccompVerdict::harmful);
  EXPECT_EQ(clone.action, static_cast<uint32_t>(SECCOMP_RET_KILL_PROCESS));
  EXPECT_EQ(check_stopped(child.pid(), call(SYS_wait4)).action, static_cast<uint32_t>(SECCOMP_RET_TRAP));
  EXPECT_EQ(check_stopped(child.pid(), call(SYS_getpid)).verdict, SeccompVerdict::allowed);
}

TEST(SeccompCheck, StrictModeAllowsNothingSnapdumpInjects) {
  FilteredChild child({}, /*strict=*/true);
  ASSERT_GT(child.pid(), 0);
  EXPECT_EQ(check_stopped(child.pid(), call(SYS_clone)).verdict, SeccompVerdict::harmful);
}

}  // namespace
}  // namespace snapdump::os
