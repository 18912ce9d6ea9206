#include "linux/syscall_injection.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "linux/process_memory.h"
#include "linux/procfs.h"
#include "snapdump/error.h"

namespace snapdump::os {
namespace {

constexpr uint64_t kTrapFlag = 0x100;

bool is_rex_w(uint8_t b) { return b == 0x48 || b == 0x49 || b == 0x4c || b == 0x4d; }
bool reg_to_reg(uint8_t modrm) { return (modrm >> 6) == 3; }

// Scans one buffer read from `base` for a usable gadget; returns 0 if there is none.
uint64_t scan_for_gadget(std::span<const uint8_t> bytes, uint64_t base) {
  for (size_t i = 0; i + 2 < bytes.size(); ++i) {
    if (bytes[i] == 0x0f && bytes[i + 1] == 0x05 &&
        is_harmless_instruction(&bytes[i + 2], bytes.size() - i - 2)) {
      return base + i;
    }
  }
  return 0;
}

constexpr size_t kChunk = 1 << 20;

// `buffer` holds kChunk + 16 bytes, reused for every chunk of every region searched.
uint64_t search_region(pid_t pid, const Region& r, std::span<uint8_t> buffer) {
  for (uint64_t at = r.start; at < r.end; at += kChunk) {
    // Chunks overlap by 16 bytes so a gadget across a boundary is still seen whole.
    size_t len = static_cast<size_t>(std::min<uint64_t>(kChunk + 16, r.end - at));
    size_t got = read_process_memory(pid, at, buffer.first(len));
    if (uint64_t g = scan_for_gadget(buffer.first(got), at)) return g;
    if (got < len) break;
  }
  return 0;
}

}  // namespace

bool is_harmless_instruction(const uint8_t* p, size_t n) {
  if (n < 1) return false;
  switch (p[0]) {
    case 0xc3:  // ret: reads the stack, changes rip/rsp only
    case 0xc9:  // leave
    case 0x5d:  // pop rbp
    case 0x90:  // nop
      return true;
    case 0x3d:  // cmp eax, imm32
      return n >= 5;
    case 0x85:  // test r/m32, r32, register form only
    case 0x89:  // mov r/m32, r32, register form only
      return n >= 2 && reg_to_reg(p[1]);
    case 0x83:  // cmp/add/... r/m32, imm8: register form only
      return n >= 3 && reg_to_reg(p[1]);
    default:
      break;
  }
  if (is_rex_w(p[0]) && n >= 2) {
    switch (p[1]) {
      case 0x3d: return n >= 6;                          // cmp rax, imm32
      case 0x85:
      case 0x89:
      case 0x8b: return n >= 3 && reg_to_reg(p[2]);      // test/mov between registers
      case 0x83:
      case 0xf7: return n >= 3 && reg_to_reg(p[2]);      // cmp/neg on a register
      default: break;
    }
  }
  return false;
}

uint64_t find_syscall_gadget(pid_t pid, std::span<const Region> regions, std::pmr::memory_resource* scratch) {
  auto executable = [](const Region& r) { return (r.prot & PROT_EXEC) && (r.prot & PROT_READ); };
  // Sized to the largest region searched first: the vDSO is a few pages, so a capture that
  // finds its gadget there (nearly all) takes kilobytes of scratch, not a megabyte.
  std::pmr::vector<uint8_t> storage(scratch);
  auto buffer_for = [&](const Region& r) -> std::span<uint8_t> {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk + 16, r.end - r.start));
    if (storage.size() < want) storage.resize(want);
    return storage;
  };
  for (const Region& r : regions) {
    if (executable(r) && r.path == "[vdso]") {
      if (uint64_t g = search_region(pid, r, buffer_for(r))) return g;
    }
  }
  for (const Region& r : regions) {
    if (executable(r) && r.path.find("/libc.so") != std::string::npos) {
      if (uint64_t g = search_region(pid, r, buffer_for(r))) return g;
    }
  }
  for (const Region& r : regions) {
    if (executable(r) && r.path != "[vsyscall]") {
      if (uint64_t g = search_region(pid, r, buffer_for(r))) return g;
    }
  }
  // A process on its way out has its memory map torn down before it is a zombie, and then no
  // region can be read: that is an exit, not a program without a syscall instruction.
  if (process_gone(pid) || read_map_extents(pid, scratch).empty()) {
    throw Error(Errc::process_exited, fmt::format("process {} exited during capture", pid));
  }
  throw Error(Errc::not_supported,
              fmt::format("process {} has no usable syscall instruction in its executable memory, "
                          "so no clone can be injected; capture without VA clone instead",
                          pid));
}

InjectedSyscall inject_syscall(TracedThread& thread, const user_regs_struct& saved, uint64_t gadget,
                               long number, const SyscallArgs& args, bool trace_clone,
                               bool single_step_child, unsigned long kept_options) {
  InjectedSyscall out;
  user_regs_struct regs = saved;
  regs.rip = gadget;
  regs.rax = static_cast<unsigned long long>(number);
  // orig_rax = -1 tells the kernel the thread is not inside a syscall, so it does not apply
  // syscall-restart logic to our registers on the way back to user space.
  regs.orig_rax = static_cast<unsigned long long>(-1);
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
  regs.eflags &= ~kTrapFlag;
  uint64_t saved_mask = 0;
  if (single_step_child) {
    // The child inherits these flags and this signal mask. With the trap flag set and SIGTRAP
    // blocked, a clone that were ever let run (snapdump killed before it could set
    // PTRACE_O_EXITKILL on it) would execute one harmless instruction, take a debug trap whose
    // blocked signal the kernel forces to its default action, and die: it can never run the
    // target's code. The parent never returns to user space with these values: its
    // registers and mask are restored at the syscall-exit stop.
    regs.eflags |= kTrapFlag;
    saved_mask = thread.get_sigmask();
    thread.set_sigmask(~0ULL);
  }

  unsigned long options =
      kept_options | PTRACE_O_TRACESYSGOOD | (trace_clone ? PTRACE_O_TRACECLONE : 0);
  struct Restore {
    TracedThread& t;
    const user_regs_struct& saved;
    bool mask;
    uint64_t saved_mask;
    unsigned long kept_options;
    ~Restore() {
      if (!t.seized()) return;
      try {
        t.set_regs(saved);
        t.set_options(kept_options);
        if (mask) t.set_sigmask(saved_mask);
      } catch (...) {
        // The thread vanished (process killed): nothing left to restore.
      }
    }
  } restore{thread, saved, single_step_child, saved_mask, kept_options};

  thread.set_options(options);
  thread.set_regs(regs);

  bool entered = false;
  for (int steps = 0; steps < 16; ++steps) {
    int status = thread.resume_and_wait(PTRACE_SYSCALL);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      throw Error(Errc::process_exited,
                  fmt::format("thread {} exited during an injected syscall", thread.tid()));
    }
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    if (sig == (SIGTRAP | 0x80)) {
      if (!entered) {
        entered = true;
        continue;
      }
      user_regs_struct after{};
      thread.get_regs(after);
      out.result = static_cast<long>(after.rax);
      return out;
    }
    if (event == PTRACE_EVENT_CLONE) {
      out.new_child = static_cast<pid_t>(thread.get_event_message());
      continue;
    }
    if (event == 0 && sig != SIGTRAP) {
      // A signal for the target arrived meanwhile: keep it for release(), suppress it now.
      thread.remember_signal(sig);
      continue;
    }
  }
  throw Error(Errc::internal,
              fmt::format("injected syscall {} in thread {} did not complete", number, thread.tid()));
}

long run_in_helper(TracedThread& helper, user_regs_struct& regs, uint64_t gadget, long number,
                   const SyscallArgs& args) {
  regs.rip = gadget;
  regs.rax = static_cast<unsigned long long>(number);
  regs.orig_rax = static_cast<unsigned long long>(-1);
  regs.rdi = args[0];
  regs.rsi = args[1];
  regs.rdx = args[2];
  regs.r10 = args[3];
  regs.r8 = args[4];
  regs.r9 = args[5];
  helper.set_regs(regs);
  // The kernel reports a single step over `syscall` once the call has returned (x86's
  // syscall-exit work synthesizes the trap), so this one stop follows the whole call.
  for (int steps = 0; steps < 16; ++steps) {
    int status = helper.resume_and_wait(PTRACE_SINGLESTEP);
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      throw Error(Errc::internal, fmt::format("helper {} died during an injected syscall", helper.tid()));
    }
    if (WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP) {
      helper.get_regs(regs);
      if (regs.rip == gadget + 2) return static_cast<long>(regs.rax);
    }
  }
  throw Error(Errc::internal, fmt::format("injected syscall {} in helper {} did not complete", number, helper.tid()));
}

}  // namespace snapdump::os
