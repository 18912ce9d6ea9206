// One read-only view of "a process at a point in time": its threads and their registers, its
// mappings and modules, the memory it held, and the signal that stopped it if any. A live
// capture (Snapshot), a minidump read back and an ELF core read back are three implementations;
// the writers (minidump, ELF core), the unwinder (`stacks`) and `inspect` take the view, so
// `convert` is a reader's view fed to a writer. The model is Crashpad's snapshot/ interfaces:
// small, read-only, one implementation per source, none of them touching ptrace (a live view
// reads what the capture already holds: its copies and its VA clone).
//
// Registers are in the Linux x86-64 layouts (user_regs_struct, the FXSAVE area, the XSAVE area
// as PTRACE_GETREGSET NT_X86_XSTATE returns it): the form an ELF core and libdwfl want, and the
// one a minidump's CONTEXT is converted from and to. What a source cannot give is said in
// gaps(), never guessed: a minidump has no signal mask, a core no thread names but the main one.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace snapdump::view {

struct ProcessSummary {
  pid_t pid = 0, parent_pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;          // comm (at most 15 bytes on Linux)
  std::string image_path;    // the executable ("" if unknown)
  std::string command_line;  // argv with NUL separators, as /proc/PID/cmdline ("" if unknown)
  std::vector<uint8_t> auxv;  // Elf64_auxv_t pairs as /proc/PID/auxv (empty if unknown)
  uint64_t user_time_ns = 0, kernel_time_ns = 0;
  // For a core's NT_PRPSINFO and NT_PRSTATUS (0 if unknown).
  pid_t process_group = 0, session = 0;
  char state = 0;  // the /proc state letter: R, S, D, T, t, Z, ...
  int nice = 0;
};

struct ThreadState {
  pid_t tid = 0;
  std::string name;  // comm ("" if unknown)
  user_regs_struct regs{};
  std::optional<user_fpregs_struct> fpregs;  // the FXSAVE area
  std::vector<uint8_t> xsave;                // the XSAVE area (empty if unknown)
  uint64_t pending_signals = 0, blocked_signals = 0;  // bit n-1 for signal n (0 if unknown)
  uint64_t user_time_ns = 0, kernel_time_ns = 0;
  // Exited while the capture ran: listed, but its registers are not known.
  bool exited = false;
};

struct Mapping {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0;  // PROT_READ | PROT_WRITE | PROT_EXEC
  bool shared = false;
  uint64_t file_offset = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;  // 0: anonymous (or unknown)
  std::string path;    // a file, [heap], [stack], [vdso], ... or ""
  bool dont_dump = false;  // MADV_DONTDUMP ("dd")
  bool io = false;         // VM_IO or a PFN map: never readable
  // The mapping holds private copies of pages (smaps Anonymous or Swap > 0): the stand-in for
  // the kernel's anon_vma, which decides whether coredump_filter's private bits dump it. True
  // when the source cannot tell.
  bool written = true;
};

struct Module {
  uint64_t base = 0, size = 0;  // where its ELF header is mapped, and the span of its mappings
  std::string path;
  std::vector<uint8_t> build_id;  // NT_GNU_BUILD_ID bytes (empty if none or unknown)
  std::string soname;
};

// Why the process stopped, for a core's NT_SIGINFO and a minidump's Exception stream.
struct Signal {
  pid_t thread = 0;  // the thread it was delivered to
  int signo = 0, code = 0, error = 0;
  uint64_t address = 0;  // si_addr for the fault signals
};

class ProcessView {
 public:
  virtual ~ProcessView() = default;

  virtual const ProcessSummary& process() const = 0;
  virtual std::span<const ThreadState> threads() const = 0;
  // In address order, disjoint.
  virtual std::span<const Mapping> mappings() const = 0;
  virtual std::span<const Module> modules() const = 0;
  virtual std::optional<Signal> signal() const = 0;

  // Copies memory at `address` into `out`; returns the bytes copied, stopping at the first byte
  // the view does not hold.
  virtual size_t read_memory(uint64_t address, std::span<uint8_t> out) const = 0;
  // The runs of [start, end) that hold pages worth writing (private anonymous pages never
  // touched are not: they read as zeros); nullopt when every page is, or when the view cannot
  // tell. A core leaves the rest as holes. [start, end) lies inside one mapping.
  virtual std::optional<std::vector<std::pair<uint64_t, uint64_t>>> populated(uint64_t start, uint64_t end) const {
    (void)start, (void)end;
    return std::nullopt;
  }
  // The runs of [start, end) whose bytes the view has at all (a minidump holds only parts of the
  // address space); nullopt when it has every readable byte, as a live capture does. A core
  // writes no other bytes: the rest of a mapping keeps its PT_LOAD, without bytes in the file.
  virtual std::optional<std::vector<std::pair<uint64_t, uint64_t>>> held(uint64_t start, uint64_t end) const {
    (void)start, (void)end;
    return std::nullopt;
  }
  // The caller is done with [start, end) for good: a live view may let its copy go (a VA clone
  // drops those pages, see Snapshot::release_memory). Reads of the range may fail afterwards.
  virtual void release_memory(uint64_t start, uint64_t end) const { (void)start, (void)end; }
  // A live view of a running process: where it is writing its memory now, among `ranges`
  // (Snapshot::write_front); nullopt when it cannot tell, as any dump read back cannot.
  virtual std::optional<uint64_t> write_front(std::span<const std::pair<uint64_t, uint64_t>> ranges,
                                              uint64_t min_pages) const {
    (void)ranges, (void)min_pages;
    return std::nullopt;
  }
  // What this source could not give, in words ("no signal masks: a minidump does not carry them").
  virtual std::vector<std::string> gaps() const { return {}; }
};

}  // namespace snapdump::view
