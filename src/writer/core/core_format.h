// The note payloads of an x86-64 Linux ELF core, as the kernel lays them out (fs/binfmt_elf.c,
// include/linux/elfcore.h, arch/x86's elf_gregset_t) and as gdb, LLDB and elfutils read them.
// Declared here rather than taken from <sys/procfs.h> so that every size and offset readers
// depend on is static_asserted, and a layout mistake fails the build instead of a reader.
#pragma once

#include <sys/user.h>

#include <cstddef>
#include <cstdint>

namespace snapdump::writer::core {

// Note names: the kernel's "CORE" for the classic notes, "LINUX" for the regsets it added later.
inline constexpr char kNameCore[] = "CORE";
inline constexpr char kNameLinux[] = "LINUX";

// Note types (<elf.h> has them as NT_*, kept here by value so the file reads on its own).
inline constexpr uint32_t kNtPrStatus = 1;
inline constexpr uint32_t kNtPrFpReg = 2;
inline constexpr uint32_t kNtPrPsInfo = 3;
inline constexpr uint32_t kNtAuxv = 6;
inline constexpr uint32_t kNtFile = 0x46494c45;    // "FILE"
inline constexpr uint32_t kNtSigInfo = 0x53494749;  // "SIGI"
inline constexpr uint32_t kNtX86XState = 0x202;

struct Timeval {  // struct __kernel_old_timeval
  int64_t sec, usec;
};

struct PrStatus {  // struct elf_prstatus (elf_prstatus_common + pr_reg + pr_fpvalid)
  int32_t si_signo, si_code, si_errno;  // struct elf_siginfo pr_info
  int16_t cursig;
  uint64_t sigpend, sighold;
  int32_t pid, ppid, pgrp, sid;
  Timeval utime, stime, cutime, cstime;
  user_regs_struct reg;  // elf_gregset_t: the same 27 registers in the same order
  int32_t fpvalid;
};
static_assert(sizeof(user_regs_struct) == 27 * 8);
static_assert(offsetof(PrStatus, cursig) == 12);
static_assert(offsetof(PrStatus, sigpend) == 16);
static_assert(offsetof(PrStatus, pid) == 32);
static_assert(offsetof(PrStatus, utime) == 48);
static_assert(offsetof(PrStatus, reg) == 112);
static_assert(offsetof(PrStatus, fpvalid) == 328);
static_assert(sizeof(PrStatus) == 336);

inline constexpr size_t kPrArgSize = 80;  // ELF_PRARGSZ

struct PrPsInfo {  // struct elf_prpsinfo
  char state, sname, zomb, nice;
  uint64_t flag;
  uint32_t uid, gid;
  int32_t pid, ppid, pgrp, sid;
  char fname[16];
  char psargs[kPrArgSize];
};
static_assert(offsetof(PrPsInfo, flag) == 8);
static_assert(offsetof(PrPsInfo, uid) == 16);
static_assert(offsetof(PrPsInfo, pid) == 24);
static_assert(offsetof(PrPsInfo, fname) == 40);
static_assert(offsetof(PrPsInfo, psargs) == 56);
static_assert(sizeof(PrPsInfo) == 136);

// siginfo_t as the kernel copies it to user space (128 bytes): the three ints, then the union
// at offset 16, where a fault signal has si_addr and a sent one si_pid and si_uid.
struct SigInfo {
  int32_t signo, errno_, code, pad0;
  union {
    uint64_t addr;
    struct {
      int32_t pid;
      uint32_t uid;
    } sender;
    uint8_t bytes[112];
  } fields;
};
static_assert(offsetof(SigInfo, fields) == 16);
static_assert(sizeof(SigInfo) == 128);

static_assert(sizeof(user_fpregs_struct) == 512);  // NT_PRFPREG: the FXSAVE area

}  // namespace snapdump::writer::core
