#include "linux/seccomp_filter.h"

#include <linux/audit.h>
#include <sys/ptrace.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

#include "linux/proc_files.h"
#include "linux/text_scan.h"

namespace snapdump::os {
namespace {

// The kernel's ACTION_ONLY: actions compare as signed numbers, the smaller the more restrictive
// (KILL_PROCESS is negative).
int32_t action_only(uint32_t ret) { return static_cast<int32_t>(ret & SECCOMP_RET_ACTION_FULL); }

SeccompVerdict verdict_of(uint32_t ret) {
  switch (ret & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW:
    case SECCOMP_RET_LOG:
      return SeccompVerdict::allowed;
    case SECCOMP_RET_ERRNO:
    case SECCOMP_RET_TRACE:  // snapdump traces without PTRACE_O_TRACESECCOMP: the call gets ENOSYS
      return SeccompVerdict::refused;
    default:  // KILL_PROCESS, KILL_THREAD, TRAP, USER_NOTIF, and what the kernel treats as kill
      return SeccompVerdict::harmful;
  }
}

constexpr uint32_t kInvalid = SECCOMP_RET_KILL_PROCESS;
constexpr size_t kMaxInstructions = BPF_MAXINSNS;

}  // namespace

const char* to_string(SeccompVerdict verdict) noexcept {
  switch (verdict) {
    case SeccompVerdict::allowed: return "allowed";
    case SeccompVerdict::refused: return "refused";
    case SeccompVerdict::harmful: return "harmful";
    case SeccompVerdict::unknown: return "unknown";
  }
  return "?";
}

const char* seccomp_effect(uint32_t action) noexcept {
  switch (action & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW: return "allow";
    case SECCOMP_RET_LOG: return "log and allow";
    case SECCOMP_RET_KILL_THREAD: return "kill the thread that makes";
    case SECCOMP_RET_TRAP: return "raise SIGSYS in the thread that makes";
    case SECCOMP_RET_USER_NOTIF: return "hand its seccomp supervisor";
    case SECCOMP_RET_ERRNO: return "fail";
    case SECCOMP_RET_TRACE: return "skip (ENOSYS)";
    default: return "kill the process for";
  }
}

uint32_t run_seccomp_program(std::span<const sock_filter> program, const seccomp_data& data) noexcept {
  if (program.empty() || program.size() > kMaxInstructions) return kInvalid;
  uint32_t a = 0, x = 0;
  uint32_t mem[BPF_MEMWORDS] = {};
  const auto* bytes = reinterpret_cast<const unsigned char*>(&data);
  // Every jump goes forward (offsets are unsigned), so this ends within program.size() steps.
  for (size_t pc = 0; pc < program.size(); ++pc) {
    const sock_filter& in = program[pc];
    uint32_t k = in.k;
    switch (in.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k % 4 != 0 || k > sizeof(seccomp_data) - 4) return kInvalid;
        std::memcpy(&a, bytes + k, 4);
        break;
      case BPF_LD | BPF_W | BPF_LEN: a = sizeof(seccomp_data); break;
      case BPF_LDX | BPF_W | BPF_LEN: x = sizeof(seccomp_data); break;
      case BPF_LD | BPF_IMM: a = k; break;
      case BPF_LDX | BPF_IMM: x = k; break;
      case BPF_LD | BPF_MEM:
        if (k >= BPF_MEMWORDS) return kInvalid;
        a = mem[k];
        break;
      case BPF_LDX | BPF_MEM:
        if (k >= BPF_MEMWORDS) return kInvalid;
        x = mem[k];
        break;
      case BPF_ST:
        if (k >= BPF_MEMWORDS) return kInvalid;
        mem[k] = a;
        break;
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return kInvalid;
        mem[k] = x;
        break;
      case BPF_MISC | BPF_TAX: x = a; break;
      case BPF_MISC | BPF_TXA: a = x; break;
      case BPF_ALU | BPF_NEG: a = 0u - a; break;
      case BPF_ALU | BPF_ADD | BPF_K: a += k; break;
      case BPF_ALU | BPF_ADD | BPF_X: a += x; break;
      case BPF_ALU | BPF_SUB | BPF_K: a -= k; break;
      case BPF_ALU | BPF_SUB | BPF_X: a -= x; break;
      case BPF_ALU | BPF_MUL | BPF_K: a *= k; break;
      case BPF_ALU | BPF_MUL | BPF_X: a *= x; break;
      case BPF_ALU | BPF_DIV | BPF_K:
        if (k == 0) return kInvalid;  // the kernel refuses to load it
        a /= k;
        break;
      case BPF_ALU | BPF_DIV | BPF_X:
        if (x == 0) return 0;  // classic BPF ends the program with 0: SECCOMP_RET_KILL_THREAD
        a /= x;
        break;
      case BPF_ALU | BPF_AND | BPF_K: a &= k; break;
      case BPF_ALU | BPF_AND | BPF_X: a &= x; break;
      case BPF_ALU | BPF_OR | BPF_K: a |= k; break;
      case BPF_ALU | BPF_OR | BPF_X: a |= x; break;
      case BPF_ALU | BPF_XOR | BPF_K: a ^= k; break;
      case BPF_ALU | BPF_XOR | BPF_X: a ^= x; break;
      case BPF_ALU | BPF_LSH | BPF_K:
        if (k >= 32) return kInvalid;
        a <<= k;
        break;
      case BPF_ALU | BPF_LSH | BPF_X: a = x >= 32 ? 0 : a << x; break;
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) return kInvalid;
        a >>= k;
        break;
      case BPF_ALU | BPF_RSH | BPF_X: a = x >= 32 ? 0 : a >> x; break;
      case BPF_RET | BPF_K: return k;
      case BPF_RET | BPF_A: return a;
      case BPF_JMP | BPF_JA:
        if (k >= program.size() - pc - 1) return kInvalid;
        pc += k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_X:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_X:
      case BPF_JMP | BPF_JSET | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_X: {
        uint32_t operand = BPF_SRC(in.code) == BPF_X ? x : k;
        bool taken = false;
        switch (BPF_OP(in.code)) {
          case BPF_JEQ: taken = a == operand; break;
          case BPF_JGT: taken = a > operand; break;
          case BPF_JGE: taken = a >= operand; break;
          default: taken = (a & operand) != 0; break;  // BPF_JSET
        }
        // As the kernel's loader requires: both targets inside the program.
        if (pc + in.jt + 1 >= program.size() || pc + in.jf + 1 >= program.size()) return kInvalid;
        pc += taken ? in.jt : in.jf;
        break;
      }
      default:
        return kInvalid;  // not an instruction seccomp accepts
    }
  }
  return kInvalid;  // fell off the end without returning
}

seccomp_data injected_call(long number, const SyscallArgs& args, uint64_t gadget) noexcept {
  seccomp_data d{};
  d.nr = static_cast<int>(number);
  d.arch = AUDIT_ARCH_X86_64;
  d.instruction_pointer = gadget + 2;  // after the two-byte syscall instruction, as the kernel sees it
  for (size_t i = 0; i < 6; ++i) d.args[i] = args[i];
  return d;
}

int seccomp_mode(pid_t pid, pid_t tid) noexcept {
  char status[16 << 10];
  size_t length = 0;
  if (int err = read_file(ProcPath(pid, tid, "status").c_str(), status, sizeof status, length); err != 0) return -err;
  auto mode = text::find_field(std::string_view(status, length), "Seccomp");
  if (!mode) return SECCOMP_MODE_DISABLED;  // a kernel without seccomp
  auto number = text::parse_u64(text::trim(*mode));
  return number && *number <= SECCOMP_MODE_FILTER ? static_cast<int>(*number) : -EINVAL;
}

SeccompCheck check_seccomp(pid_t pid, pid_t tid, const seccomp_data& call) noexcept {
  SeccompCheck out;
  int mode = seccomp_mode(pid, tid);
  if (mode == SECCOMP_MODE_DISABLED) return out;
  if (mode < 0) {
    out.verdict = SeccompVerdict::unknown;
    out.error = -mode;
    return out;
  }
  if (mode == SECCOMP_MODE_STRICT) {  // only read, write, exit and sigreturn: anything else is SIGKILL
    out.verdict = SeccompVerdict::harmful;
    out.action = SECCOMP_RET_KILL_PROCESS;
    return out;
  }
  uint32_t combined = SECCOMP_RET_ALLOW;
  // Index 0 is the filter installed last; past the first one, ENOENT ends the list.
  for (unsigned long index = 0;; ++index) {
    long count = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, nullptr);
    if (count < 0 && errno == ENOENT && index > 0) break;
    if (count <= 0 || static_cast<size_t>(count) > kMaxInstructions) {
      out.verdict = SeccompVerdict::unknown;
      out.error = count < 0 ? errno : EINVAL;
      return out;
    }
    sock_filter program[kMaxInstructions];
    long got = ptrace(PTRACE_SECCOMP_GET_FILTER, tid, index, program);
    if (got != count) {
      out.verdict = SeccompVerdict::unknown;
      out.error = got < 0 ? errno : EINVAL;
      return out;
    }
    uint32_t ret = run_seccomp_program(std::span<const sock_filter>(program, static_cast<size_t>(count)), call);
    if (action_only(ret) < action_only(combined)) combined = ret;
  }
  out.action = combined;
  out.verdict = verdict_of(combined);
  return out;
}

}  // namespace snapdump::os
