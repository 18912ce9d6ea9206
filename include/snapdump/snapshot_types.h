// The plain records a snapshot is made of: process, threads, memory regions, handles (file
// descriptors) and auxiliary pages. They are the Linux analogs of the PSS_*_ENTRY structures;
// the Windows-compatible layer converts them to the exact Windows layouts.
//
// Their strings and vectors are std::pmr ones: a snapshot allocates them from its own memory
// resource, which with kCreateUseVmAllocations is an mmap arena and not the heap
// (PSS_CREATE_USE_VM_ALLOCATIONS). Read them as strings and spans; copy them out with
// std::string(x) or the iterators.
#pragma once

#include <sys/types.h>
#include <sys/user.h>

#include <array>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace snapdump {

// ---- capture flags: the numeric values of PSS_CAPTURE_FLAGS ------------------------------
using CaptureFlags = uint32_t;
namespace capture {
inline constexpr CaptureFlags kNone = 0x00000000;
inline constexpr CaptureFlags kVaClone = 0x00000001;
inline constexpr CaptureFlags kReserved00000002 = 0x00000002;
inline constexpr CaptureFlags kHandles = 0x00000004;
inline constexpr CaptureFlags kHandleNameInformation = 0x00000008;
inline constexpr CaptureFlags kHandleBasicInformation = 0x00000010;
inline constexpr CaptureFlags kHandleTypeSpecificInformation = 0x00000020;
inline constexpr CaptureFlags kHandleTrace = 0x00000040;
inline constexpr CaptureFlags kThreads = 0x00000080;
inline constexpr CaptureFlags kThreadContext = 0x00000100;
inline constexpr CaptureFlags kThreadContextExtended = 0x00000200;
inline constexpr CaptureFlags kReserved00000400 = 0x00000400;
inline constexpr CaptureFlags kVaSpace = 0x00000800;
inline constexpr CaptureFlags kVaSpaceSectionInformation = 0x00001000;
inline constexpr CaptureFlags kIptTrace = 0x00002000;
inline constexpr CaptureFlags kReserved00004000 = 0x00004000;
inline constexpr CaptureFlags kCreateBreakawayOptional = 0x04000000;
inline constexpr CaptureFlags kCreateBreakaway = 0x08000000;
inline constexpr CaptureFlags kCreateForceBreakaway = 0x10000000;
inline constexpr CaptureFlags kCreateUseVmAllocations = 0x20000000;
inline constexpr CaptureFlags kCreateMeasurePerformance = 0x40000000;
inline constexpr CaptureFlags kCreateReleaseSection = 0x80000000;
}  // namespace capture

// ---- thread context flags: the AMD64 CONTEXT_* values ----------------------------------------
using ContextFlags = uint32_t;
namespace context {
inline constexpr ContextFlags kAmd64 = 0x00100000;
inline constexpr ContextFlags kControl = kAmd64 | 0x1;         // rip, rsp, eflags, cs, ss
inline constexpr ContextFlags kInteger = kAmd64 | 0x2;         // rax..r15 (rbp included)
inline constexpr ContextFlags kSegments = kAmd64 | 0x4;        // ds, es, fs, gs (+ fs_base, gs_base)
inline constexpr ContextFlags kFloatingPoint = kAmd64 | 0x8;   // x87, MXCSR, XMM0-15 (FXSAVE)
inline constexpr ContextFlags kDebugRegisters = kAmd64 | 0x10; // DR0-3, DR6, DR7
inline constexpr ContextFlags kFull = kControl | kInteger | kFloatingPoint;
inline constexpr ContextFlags kAll = kFull | kSegments | kDebugRegisters;
inline constexpr ContextFlags kXState = kAmd64 | 0x40;  // the XSAVE area (AVX, AVX-512, ...)
}  // namespace context

// ---- process ---------------------------------------------------------------------------------
struct ProcessInfo {
  pid_t pid = 0;
  pid_t parent_pid = 0;
  std::pmr::string image_path{};       // /proc/PID/exe target ("" if unreadable)
  std::pmr::string command_line{};     // argv joined by spaces
  std::pmr::string name{};             // comm
  uint64_t create_time_unix_ns = 0;  // process start, wall clock
  uint64_t user_time_ns = 0;
  uint64_t kernel_time_ns = 0;
  int priority = 0;   // kernel priority (stat field 18)
  int nice = 0;
  uint64_t affinity_mask = 0;   // first 64 CPUs
  uint64_t page_fault_count = 0;  // minflt + majflt
  uint64_t virtual_size = 0, peak_virtual_size = 0;        // VmSize, VmPeak
  uint64_t working_set_size = 0, peak_working_set_size = 0;  // VmRSS, VmHWM
  uint64_t private_usage = 0;   // RssAnon + VmSwap
  uint64_t pagefile_usage = 0;  // VmSwap
  uint32_t thread_count = 0;    // Threads: in status at capture time
  uid_t uid = 0;
  gid_t gid = 0;
  // The raw /proc/PID files a minidump's Linux streams carry, read at capture ("" if
  // unreadable): status, maps, cmdline and environ (NUL-separated), auxv (binary).
  std::pmr::string status_text{}, maps_text{}, cmdline_raw{}, environ_raw{}, auxv_raw{};
};

// ---- threads ---------------------------------------------------------------------------------
enum class ThreadCapture {
  stopped,      // ptrace-stopped: full, exact registers
  left_running, // blocked in a call a stop would turn into EINTR; registers from
                // /proc/PID/task/TID/syscall only (rip, rsp, syscall number and arguments)
  exited,       // exited while the capture ran; listed, no registers
};

struct ThreadEntry {
  pid_t tid = 0;
  std::pmr::string name{};  // comm
  ThreadCapture capture = ThreadCapture::stopped;
  ContextFlags context_flags = 0;  // which parts of the context below are valid
  user_regs_struct regs{};
  user_fpregs_struct fpregs{};
  // The NT_X86_XSTATE area as the kernel returns it. A pmr vector because with
  // kCreateUseVmAllocations the capture keeps it in the snapshot's own mappings, not the heap.
  std::pmr::vector<uint8_t> xsave{};
  std::array<uint64_t, 8> debug_registers{};  // DR0..DR7 (DR4/DR5 are always 0)
  // The syscall the thread was in, from /proc/PID/task/TID/syscall: -1 when running in
  // user space, -2 when unknown.
  long syscall_number = -2;
  std::array<uint64_t, 6> syscall_args{};
  uint64_t stack_base = 0, stack_limit = 0;  // the mapping holding rsp: [limit, base)
  // Where the thread began (MINIDUMP_THREAD_INFO.StartAddress, PSS Win32StartAddress): the
  // program's entry point for the main thread, glibc's start routine for the others; 0 unknown.
  uint64_t start_address = 0;
  uint64_t create_time_unix_ns = 0;
  uint64_t user_time_ns = 0, kernel_time_ns = 0;
  int priority = 0, nice = 0;
  uint64_t affinity_mask = 0;
  char state = '?';  // /proc state letter before the stop (R, S, D, ...)
  uint64_t capture_time_unix_ns = 0;
};

// ---- memory ----------------------------------------------------------------------------------
// The region kinds of MEMORY_BASIC_INFORMATION.Type.
enum class RegionType { image, mapped, private_ };

// How a region's bytes can be read from the snapshot.
enum class RegionCopy {
  clone,            // read from the copy-on-write clone: point in time
  copied_in_pause,  // the kernel does not clone it (MADV_DONTFORK / MADV_WIPEONFORK): its bytes
                    // were copied from the stopped target into the snapshot
  shared_live,      // a MAP_SHARED region: the clone shares it with the target, so reads see
                    // the target's current bytes, not the point in time
  live,             // no clone (auxiliary-pages mode): reads go to the running target
  held,             // hold mode: the target is stopped, reads are point in time
  unreadable,       // PROT_NONE, [vsyscall], or not cloned and too large to copy: no bytes
};

// Why memory the target can read is not in the capture (its region's copy is unreadable).
// Memory nobody can read (PROT_NONE, VM_IO, [vsyscall]) is not an omission: it has no bytes.
enum class RegionOmission : uint8_t {
  none,
  // The kernel does not clone it (MADV_WIPEONFORK, or MADV_DONTFORK whose flag could not be
  // cleared for the fork) and copying it in the pause would pass CaptureOptions'
  // max_uncloneable_bytes.
  over_copy_cap,
  // The region changed between the maps read before the stop and the stop itself (unmapped,
  // remapped or re-protected in that window): what the capture planned for it no longer holds.
  changed_in_pause,
};

// "none", "over-copy-cap", "changed-in-pause": the words of a dump's SnapdumpOmittedMemory stream.
const char* to_string(RegionOmission omission) noexcept;

struct ElfIdentity {
  std::pmr::vector<uint8_t> build_id{};  // NT_GNU_BUILD_ID note bytes (empty if none)
  std::pmr::string soname{};             // DT_SONAME ("" if none)
  uint64_t load_address = 0;      // where the ELF header is mapped (the module base)
  uint64_t image_size = 0;        // span from load_address to the end of its last mapping
  uint16_t elf_type = 0;          // ET_EXEC / ET_DYN
  uint64_t file_size = 0;
  int64_t file_mtime_unix = 0;    // the Linux stand-in for TimeDateStamp
};

struct Region {
  uint64_t start = 0, end = 0;
  uint32_t prot = 0;        // PROT_READ | PROT_WRITE | PROT_EXEC bits
  bool shared = false;      // 's' in maps
  uint64_t file_offset = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t inode = 0;
  std::pmr::string path{};         // as in maps: a file, [heap], [stack], [vdso], ... or ""
  RegionType type = RegionType::private_;
  // smaps VmFlags of interest
  bool dont_fork = false;   // "dc": not copied on fork
  bool wipe_on_fork = false;  // "wf": zero in the child
  bool dont_dump = false;   // "dd"
  bool huge_pages = false;  // "hg": MADV_HUGEPAGE
  bool io = false;          // "io" / "pf": VM_IO or pure PFN range, never readable
  uint64_t rss = 0, anonymous = 0, swap = 0, anon_huge = 0;  // bytes, from smaps
  RegionCopy copy = RegionCopy::live;
  RegionOmission omitted = RegionOmission::none;  // set when copy is unreadable for a reason
  std::optional<ElfIdentity> elf{};  // for the mapping at a module's base (see Snapshot::regions)
};

// A page (or run of pages) whose bytes live inside the snapshot itself.
struct AuxiliaryPage {
  uint64_t address = 0;
  // In the snapshot's own mappings with kCreateUseVmAllocations, else on the heap.
  std::pmr::vector<uint8_t> bytes{};
  uint32_t prot = 0;
  uint64_t capture_time_unix_ns = 0;
  enum class Why { stack, instruction_window, not_cloneable, requested } why = Why::stack;
};

// ---- handles (file descriptors) --------------------------------------------------------------
enum class FdKind {
  unknown, regular, directory, char_device, block_device, pipe, fifo, socket, eventfd,
  timerfd, signalfd, epoll, inotify, fanotify, memfd, pidfd, perf_event, bpf, io_uring,
  userfaultfd, anon_inode,
};
const char* to_string(FdKind kind) noexcept;

struct SocketInfo {
  int family = 0;     // AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, ...
  int type = 0;       // SOCK_STREAM, SOCK_DGRAM, ...
  int protocol = 0;
  std::pmr::string local_address{}, remote_address{};  // "127.0.0.1:8080", "[::1]:80", "/path" or "@abstract"
  std::pmr::string state{};  // TCP state name ("LISTEN", "ESTABLISHED", ...) or unix state
  uint64_t inode = 0;
};
struct PipeInfo { uint64_t inode = 0; bool read_end = false; bool write_end = false; };
struct EventFdInfo { uint64_t count = 0; bool semaphore = false; };
struct TimerFdInfo {
  int clock_id = 0;
  uint64_t ticks = 0;
  uint64_t value_ns = 0, interval_ns = 0;  // it_value, it_interval
  uint32_t settime_flags = 0;
};
struct SignalFdInfo { uint64_t mask = 0; };
struct EpollWatch { int fd = 0; uint32_t events = 0; uint64_t data = 0; };
struct EpollInfo { std::pmr::vector<EpollWatch> watches{}; };
struct InotifyWatch { int wd = 0; uint64_t inode = 0; uint32_t mask = 0; std::pmr::string path{}; };
struct InotifyInfo { std::pmr::vector<InotifyWatch> watches{}; };
struct MemfdInfo { std::pmr::string name{}; uint64_t size = 0; uint32_t seals = 0; };
struct PidfdInfo { pid_t pid = 0; };
using TypeSpecific = std::variant<std::monostate, SocketInfo, PipeInfo, EventFdInfo, TimerFdInfo,
                                  SignalFdInfo, EpollInfo, InotifyInfo, MemfdInfo, PidfdInfo>;

struct HandleEntry {
  int fd = -1;
  FdKind kind = FdKind::unknown;
  bool has_name = false, has_basic = false, has_type_specific = false;
  std::pmr::string name{};       // readlink of /proc/PID/fd/N
  std::pmr::string type_name{};  // "File", "Directory", "Socket", "EventFd", ... (PSS TypeName)
  // basic information, from fdinfo and fstat
  uint32_t open_flags = 0;   // fdinfo flags (O_RDWR, O_NONBLOCK, O_CLOEXEC, ...)
  uint64_t position = 0;     // fdinfo pos
  uint64_t mount_id = 0;
  uint64_t inode = 0;
  uint32_t mode = 0;         // st_mode
  uint32_t granted_access = 0;  // GENERIC_READ/GENERIC_WRITE analog from the open mode
  TypeSpecific type_specific{};
  uint64_t capture_time_unix_ns = 0;
};

// ---- performance -----------------------------------------------------------------------------
struct PhaseCounter { uint64_t cycles = 0; uint64_t wall_ns = 0; };
struct PerformanceCounters {
  PhaseCounter total, va_clone, va_space, aux_pages, handles, threads;
  PhaseCounter pause;   // how long the target was stopped (first interrupt to last resume)
  uint64_t clone_lifetime_ns = 0;  // how long the clone existed (until free, or so far)
  // Inside va_clone: the fork() alone that made the clone (the floor of a clone's pause, what a
  // bare fork() of the target costs); 0 without a clone.
  uint64_t clone_fork_ns = 0;
  // With a VA clone, before the pause: how long one thread of the target was stopped alone while
  // the helper the clone is forked from was made (the other threads ran on); 0 when the pause
  // made it.
  uint64_t helper_thread_stop_ns = 0;
};

}  // namespace snapdump
