// Snapshot::capture: the phases of a capture, in the order that keeps the target's pause short.
//   1. before the stop: validate, check permissions, read /proc (process, smaps), find a gadget
//   2. the stop:        interrupt every thread, read registers, then clone or copy pages
//   3. after the stop:  names, times, handles, ELF identities (read from the clone if any)
// Everything that touches ptrace runs on the snapshot's tracer thread.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory_resource>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "common/records_in.h"
#include "linux/breakaway.h"
#include "linux/elf_identity.h"
#include "linux/fd_inspect.h"
#include "linux/permissions.h"
#include "linux/process_memory.h"
#include "linux/proc_files.h"
#include "linux/procfs.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"
#include "snapshot/snapshot_state.h"
#include "snapshot/thread_start.h"

namespace snapdump {
namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}
uint64_t realtime_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Times one phase into a PhaseCounter.
class PhaseTimer {
 public:
  explicit PhaseTimer(PhaseCounter& c) : c_(c), ns_(monotonic_ns()), tsc_(__rdtsc()) {}
  ~PhaseTimer() {
    c_.wall_ns += monotonic_ns() - ns_;
    c_.cycles += __rdtsc() - tsc_;
  }

 private:
  PhaseCounter& c_;
  uint64_t ns_, tsc_;
};

// Test hook: SNAPDUMP_TEST_STALL_AT=<phase>[:<ms>] makes the capture announce the phase on
// stderr and sleep there (an hour by default), so tests can SIGKILL snapdump, or kill the
// target, at that exact point. Phases: before-stop, in-pause, after-clone, after-resume. Once a
// VA clone exists, the announcement names it, so tests can check what became of it.
void test_stall_point(const char* phase, pid_t clone = 0) {
  const char* wanted = std::getenv("SNAPDUMP_TEST_STALL_AT");
  if (wanted == nullptr) return;
  std::string spec(wanted);
  std::string name = spec.substr(0, spec.find(':'));
  if (name != phase) return;
  unsigned ms = spec.find(':') == std::string::npos ? 3'600'000u
                                                    : static_cast<unsigned>(std::stoul(spec.substr(spec.find(':') + 1)));
  std::string line = clone != 0 ? fmt::format("snapdump: stalled at {} (clone {})\n", phase, clone)
                                : fmt::format("snapdump: stalled at {}\n", phase);
  (void)!write(2, line.data(), line.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void validate(CaptureFlags flags, const CaptureOptions& options) {
  constexpr CaptureFlags kReserved =
      capture::kReserved00000002 | capture::kReserved00000400 | capture::kReserved00004000;
  constexpr CaptureFlags kKnown = 0x00007fff | capture::kCreateBreakawayOptional |
                                  capture::kCreateBreakaway | capture::kCreateForceBreakaway |
                                  capture::kCreateUseVmAllocations |
                                  capture::kCreateMeasurePerformance | capture::kCreateReleaseSection;
  if (flags & kReserved) {
    throw Error(Errc::invalid_argument, fmt::format("reserved capture flag bits set: {:#x}", flags & kReserved));
  }
  if (flags & ~kKnown) {
    throw Error(Errc::invalid_argument, fmt::format("unknown capture flag bits: {:#x}", flags & ~kKnown));
  }
  if ((flags & capture::kVaSpaceSectionInformation) && !(flags & capture::kVaSpace)) {
    throw Error(Errc::invalid_argument, "kVaSpaceSectionInformation is only valid with kVaSpace");
  }
  if ((flags & capture::kCreateBreakawayOptional) &&
      !(flags & (capture::kCreateBreakaway | capture::kCreateForceBreakaway))) {
    throw Error(Errc::invalid_argument,
                "kCreateBreakawayOptional needs kCreateBreakaway or kCreateForceBreakaway");
  }
  if ((flags & capture::kVaClone) && options.hold) {
    throw Error(Errc::invalid_argument, "hold mode and kVaClone exclude each other");
  }
  if (flags & capture::kIptTrace) {
    if (access("/sys/bus/event_source/devices/intel_pt", F_OK) != 0) {
      throw Error(Errc::not_supported,
                  "kIptTrace: this CPU or kernel offers no Intel Processor Trace "
                  "(/sys/bus/event_source/devices/intel_pt is absent)");
    }
    throw Error(Errc::not_supported, "kIptTrace: Intel PT capture is not implemented yet");
  }
}

// Test seam: a program that defines this function is told when the target's pause begins
// (true) and ends (false), on the thread that runs the capture. The heap-use test counts
// allocations between the two; nothing else defines it.
extern "C" __attribute__((weak)) void snapdump_test_pause_observer(bool begins);
void observe_pause(bool begins) {
  if (snapdump_test_pause_observer != nullptr) snapdump_test_pause_observer(begins);
}
// The same for the whole capture on the tracer thread, from before the first /proc read to
// the snapshot's completion.
extern "C" __attribute__((weak)) void snapdump_test_capture_observer(bool begins);
struct ObservedCapture {
  ObservedCapture() {
    if (snapdump_test_capture_observer != nullptr) snapdump_test_capture_observer(true);
  }
  ~ObservedCapture() {
    if (snapdump_test_capture_observer != nullptr) snapdump_test_capture_observer(false);
  }
};

struct StoppedThread {
  os::TracedThread traced;
  ThreadEntry entry;
  user_regs_struct regs{};  // always read while stopped: stacks and windows need rsp and rip
};

using Ranges = std::pmr::vector<std::pair<uint64_t, uint64_t>>;

// With kCreateUseVmAllocations nothing in the capture takes from the heap on success (the
// test in tests/integration/vm_allocations_test.cpp counts every operator new and malloc on
// the tracer thread): what the snapshot keeps is allocated from s_.memory(), the snapshot's
// mmap arena, and what the capture only reads on the way (/proc texts, ELF headers, socket
// tables) from scratch(), an arena that dies with the Capturer. Without the flag both are the
// heap.
class Capturer {
 public:
  Capturer(detail::SnapshotState& s, const CaptureOptions& o)
      : s_(s), o_(o),
        scratch_(s.arena ? static_cast<std::pmr::memory_resource*>(&scratch_arena_) : std::pmr::new_delete_resource()), tids_(s.memory()), known_(s.memory()), fresh_(s.memory()), threads_(s.memory()),
        left_running_(s.memory()), exited_(s.memory()), pages_(s.memory()) {}

  void run() {
    ObservedCapture observed;
    PhaseTimer total(s_.perf.total);
    os::check_traceable(s_.pid, scratch_);
    s_.process = os::read_process_info(s_.pid, s_.memory(), scratch_);
    {
      PhaseTimer t(s_.perf.va_space);
      s_.regions = os::read_maps(s_.pid, /*with_smaps=*/true, s_.memory(), scratch_);
      optional_file("maps", s_.process.maps_text);
    }
    if (s_.mode == MemoryMode::clone) {
      gadget_ = os::find_syscall_gadget(s_.pid, s_.regions, scratch_);
      orphan_clone_ = os::clone_can_be_orphaned(s_.pid);
    }
    // Room for every thread known now and a burst more, so the pause's lists do not grow.
    if (int err = os::list_threads(s_.pid, tids_); err == 0) {
      known_.reserve(2 * tids_.size() + 64);
      fresh_.reserve(2 * tids_.size() + 64);
    }
    test_stall_point("before-stop");

    stop_all();
    capture_in_pause();
    if (s_.mode != MemoryMode::hold) resume_all();
    observe_pause(false);
    test_stall_point("after-resume", s_.clone ? s_.clone->pid() : 0);
    // The pages move into the snapshot's list; their bytes stay where they were allocated.
    s_.aux_pages.reserve(pages_.size());
    for (AuxiliaryPage& page : pages_) s_.aux_pages.push_back(std::move(page));

    finish_threads();
    finish_regions();
    optional_file("status", s_.process.status_text);
    optional_file("cmdline", s_.process.cmdline_raw);
    optional_file("environ", s_.process.environ_raw);
    optional_file("auxv", s_.process.auxv_raw);
    if (s_.flags & capture::kThreads) detail::attach_thread_starts(s_.pid, s_.regions, s_.process.auxv_raw, s_.threads, scratch_);
    if (s_.flags & capture::kHandles) {
      PhaseTimer t(s_.perf.handles);
      pid_t from = s_.clone ? s_.clone->pid() : s_.pid;
      s_.handles = os::read_handles(from, s_.flags, s_.memory(), scratch_);
    }
    if (s_.clone) {
      // Outside the pause. A failure here is not fatal: reads fall back to process_vm_readv.
      s_.clone_mem_fd = ::open(os::ProcPath(s_.clone->pid(), "mem").c_str(), O_RDONLY | O_CLOEXEC);
      // The clone keeps no fd of the target open from here on: a socket the target closes
      // reaches EOF at its peer at once, not when the dump is done.
      s_.clone->close_files();
      if (s_.flags & (capture::kCreateBreakaway | capture::kCreateForceBreakaway)) {
        os::break_away(s_.clone->pid(), s_.pid, (s_.flags & capture::kCreateBreakawayOptional) != 0, scratch_);
      }
    }
  }

 private:
  // A /proc/PID file a dump may carry; its absence (permissions, hidepid) is not an error:
  // `into` is left empty.
  void optional_file(const char* name, std::pmr::string& into) const {
    os::read_file(os::ProcPath(s_.pid, name).c_str(), into);
  }

  void stop_all() {
    // Seize first (no stop yet), then interrupt: the pause starts at the first interrupt.
    // New threads can appear until every thread is stopped, so list again until a pass finds
    // none: a stopped thread cannot create one.
    bool first_pass = true;
    for (;;) {
      if (os::list_threads(s_.pid, tids_) != 0) {
        throw Error(Errc::process_exited, fmt::format("process {} exited during capture", s_.pid));
      }
      fresh_.clear();
      for (pid_t tid : tids_) {
        auto at = std::lower_bound(known_.begin(), known_.end(), tid);
        if (at != known_.end() && *at == tid) continue;
        known_.insert(at, tid);
        if (o_.leave_unrestartable_running) {
          os::SyscallState sc;
          if (os::read_syscall(s_.pid, tid, sc) != 0) {
            exited_.push_back(tid);  // gone between listing and reading: not an error
            continue;
          }
          if (os::interrupted_by_stop(sc.number)) {
            left_running_.push_back(tid);
            continue;
          }
        }
        // The entry's XSAVE vector takes the pause's allocator here, once: later moves keep it.
        StoppedThread& st =
            threads_.emplace_back(StoppedThread{os::TracedThread(tid), thread_entry_in(tid, s_.memory()), {}});
        if (!st.traced.seize()) {
          exited_.push_back(tid);
          continue;
        }
        fresh_.push_back(&st);
      }
      if (fresh_.empty() && !first_pass) break;
      if (first_pass) {
        observe_pause(true);
        pause_start_ = monotonic_ns();
      }
      first_pass = false;
      for (StoppedThread* t : fresh_) t->traced.interrupt();
      for (StoppedThread* t : fresh_) {
        if (t->traced.wait_stop(o_.stop_timeout) == os::StopResult::exited) exited_.push_back(t->entry.tid);
      }
      if (fresh_.empty()) break;
    }
    bool leader_alive = std::any_of(threads_.begin(), threads_.end(), [&](const StoppedThread& t) {
      return t.traced.seized();
    }) || !left_running_.empty();
    if (!leader_alive) {
      throw Error(Errc::process_exited, fmt::format("process {} exited during capture", s_.pid));
    }
  }

  void capture_in_pause() {
    test_stall_point("in-pause");
    read_registers();
    if (s_.mode == MemoryMode::clone) {
      make_clone();
    } else if (s_.mode == MemoryMode::auxiliary_pages) {
      PhaseTimer a(s_.perf.aux_pages);
      copy_ranges(plan_auxiliary_ranges(), AuxiliaryPage::Why::stack);
    }
  }

  // The threads phase of the performance counters: registers only, so the phases add up.
  void read_registers() {
    PhaseTimer t(s_.perf.threads);
    bool want_context = s_.flags & capture::kThreadContext;
    bool want_xstate = s_.flags & capture::kThreadContextExtended;
    ContextFlags cf = s_.context_flags;
    for (StoppedThread& thread : threads_) {
      StoppedThread* st = &thread;
      if (!st->traced.seized()) continue;
      st->traced.get_regs(st->regs);
      st->entry.capture_time_unix_ns = realtime_ns();
      if (!want_context && !want_xstate) continue;
      st->entry.regs = st->regs;
      st->entry.context_flags = want_context ? (cf & (context::kAll)) : 0;
      bool want_fp = want_context && (cf & context::kFloatingPoint & ~context::kAmd64);
      if (want_xstate || (cf & context::kXState & ~context::kAmd64)) {
        // On the stack first, then exactly its size into the entry (the kernel says how much
        // of the buffer the XSAVE layout of this CPU fills).
        alignas(64) uint8_t area[16384];
        size_t n = st->traced.get_xstate(area);
        st->entry.xsave.assign(area, area + n);
        if (!st->entry.xsave.empty()) st->entry.context_flags |= context::kXState;
      }
      if (want_fp) {
        // The XSAVE area starts with the FXSAVE image GETFPREGS returns: one ptrace call less
        // per thread, inside the pause.
        if (st->entry.xsave.size() >= sizeof(user_fpregs_struct)) {
          std::memcpy(&st->entry.fpregs, st->entry.xsave.data(), sizeof(user_fpregs_struct));
        } else {
          st->traced.get_fpregs(st->entry.fpregs);
        }
      }
      if (want_context && (cf & context::kDebugRegisters & ~context::kAmd64)) {
        st->entry.debug_registers = st->traced.get_debug_registers();
      }
    }
  }

  void make_clone() {
    PhaseTimer t(s_.perf.va_clone);
    // Any stopped thread can carry the injected clone(): its own interrupted call restarts.
    // Prefer one that no pending signal stopped, so that signal's delivery is untouched.
    StoppedThread* carrier = nullptr;
    for (StoppedThread& st : threads_) {
      if (!st.traced.seized()) continue;
      if (!carrier || (carrier->traced.pending_signal() && !st.traced.pending_signal())) carrier = &st;
    }
    if (!carrier) throw Error(Errc::process_exited, "no thread of the target is left to clone");
    s_.clone.emplace(os::VaClone::create(s_.pid, carrier->traced, carrier->regs, gadget_, orphan_clone_));
    s_.clone_created_ns = monotonic_ns();
    test_stall_point("after-clone", s_.clone->pid());
    // The kernel leaves MADV_DONTFORK regions out of the clone and zeroes MADV_WIPEONFORK ones:
    // copy them now, while the target is still stopped, or mark them unreadable.
    Ranges uncloned(s_.memory());
    uint64_t total = 0;
    for (Region& r : s_.regions) {
      if (!(r.dont_fork || r.wipe_on_fork) || !(r.prot & PROT_READ) || r.io) continue;
      if (total + (r.end - r.start) > o_.max_uncloneable_bytes) {
        r.copy = RegionCopy::unreadable;
        continue;
      }
      total += r.end - r.start;
      uncloned.emplace_back(r.start, r.end);
      r.copy = RegionCopy::copied_in_pause;
    }
    copy_ranges(std::move(uncloned), AuxiliaryPage::Why::not_cloneable);
  }

  const Region* region_of(uint64_t address) const { return find_region(s_.regions, address); }

  Ranges plan_auxiliary_ranges() const {
    Ranges ranges(s_.memory());
    for (const StoppedThread& st : threads_) {
      if (!st.traced.seized()) continue;
      uint64_t sp = st.regs.rsp, ip = st.regs.rip;
      // The stack in use: from below the x86-64 red zone up to the top of its mapping.
      if (const Region* r = region_of(sp); r && (r->prot & PROT_READ)) {
        uint64_t lo = std::max<uint64_t>(r->start, sp >= 128 ? sp - 128 : 0);
        uint64_t hi = std::min<uint64_t>(r->end, lo + o_.max_stack_bytes);
        ranges.emplace_back(lo, hi);
      }
      if (const Region* r = region_of(ip); r && (r->prot & PROT_READ)) {
        uint64_t w = o_.instruction_window;
        uint64_t lo = std::max<uint64_t>(r->start, ip >= w ? ip - w : 0);
        uint64_t hi = std::min<uint64_t>(r->end, ip + w);
        ranges.emplace_back(lo, hi);
      }
    }
    for (const auto& extra : o_.extra_ranges) {
      if (extra.second > extra.first) ranges.push_back(extra);
    }
    return ranges;
  }

  // Copies [start, end) ranges from the stopped target into auxiliary pages, merging overlaps.
  void copy_ranges(Ranges ranges, AuxiliaryPage::Why why) {
    std::sort(ranges.begin(), ranges.end());
    Ranges merged(s_.memory());
    for (const auto& r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    pages_.reserve(pages_.size() + merged.size());
    for (const auto& [lo, hi] : merged) {
      AuxiliaryPage page = auxiliary_page_in(lo, s_.memory());
      page.why = why;
      page.bytes.resize(hi - lo);
      page.bytes.resize(os::read_process_memory(s_.pid, lo, page.bytes));
      page.capture_time_unix_ns = realtime_ns();
      if (const Region* r = region_of(lo)) page.prot = r->prot;
      if (!page.bytes.empty()) pages_.push_back(std::move(page));
    }
    std::sort(pages_.begin(), pages_.end(),
              [](const AuxiliaryPage& a, const AuxiliaryPage& b) { return a.address < b.address; });
  }

  void resume_all() {
    for (StoppedThread& st : threads_) st.traced.release();
    uint64_t end = monotonic_ns();
    s_.perf.pause.wall_ns = end - pause_start_;
  }

  void finish_threads() {
    if (s_.mode == MemoryMode::hold) s_.perf.pause.wall_ns = monotonic_ns() - pause_start_;
    if (!(s_.flags & capture::kThreads)) {
      if (s_.mode == MemoryMode::hold) hold_threads();
      return;
    }
    s_.threads.reserve(threads_.size() + left_running_.size());
    for (StoppedThread& st : threads_) {
      ThreadEntry& e = st.entry;
      e.capture = ThreadCapture::stopped;
      fill_thread_details(e, &st.regs, st.regs.rsp);
      // Moved, not copied: a copy would put the XSAVE bytes back on the heap.
      s_.threads.push_back(std::move(e));
    }
    for (pid_t tid : left_running_) {
      // Same allocator as the stopped threads' entries: the sort below moves entries into each
      // other's places, and a move between different allocators copies the bytes.
      ThreadEntry e = thread_entry_in(tid, s_.memory());
      e.capture = ThreadCapture::left_running;
      os::SyscallState sc;
      if (os::read_syscall(s_.pid, tid, sc) != 0) e.capture = ThreadCapture::exited;
      e.regs.rip = sc.instruction_pointer;
      e.regs.rsp = sc.stack_pointer;
      e.context_flags = (s_.flags & capture::kThreadContext) ? context::kAmd64 : 0;
      fill_thread_details(e, nullptr, sc.stack_pointer);
      s_.threads.push_back(std::move(e));
    }
    // Threads that exited between listing and stopping are kept, flagged, never an error.
    for (pid_t tid : exited_) {
      auto it = std::find_if(s_.threads.begin(), s_.threads.end(), [&](const ThreadEntry& e) { return e.tid == tid; });
      if (it != s_.threads.end()) {
        it->capture = ThreadCapture::exited;
        it->context_flags = 0;
      }
    }
    std::sort(s_.threads.begin(), s_.threads.end(),
              [](const ThreadEntry& a, const ThreadEntry& b) { return a.tid < b.tid; });
    if (s_.mode == MemoryMode::hold) hold_threads();
  }

  // `stopped_regs`: the registers read during the stop, nullptr for a thread left running.
  void fill_thread_details(ThreadEntry& e, const user_regs_struct* stopped_regs, uint64_t sp) {
    try {
      // A thread that has exited since fails here first, without a throw on the way.
      if (os::read_thread_name(s_.pid, e.tid, e.name) != 0) throw_thread_gone();
      os::TaskStat ts = os::read_task_stat(s_.pid, e.tid);
      e.state = ts.state;
      e.user_time_ns = ts.user_time_ns;
      e.kernel_time_ns = ts.kernel_time_ns;
      e.create_time_unix_ns = ts.start_time_unix_ns;
      e.priority = ts.priority;
      e.nice = ts.nice;
      e.affinity_mask = os::read_affinity(e.tid);
      os::SyscallState sc;
      if (os::read_syscall(s_.pid, e.tid, sc) != 0) throw_thread_gone();
      if (stopped_regs != nullptr) {
        // After resume the file shows the thread's state now; the registers of the stop say
        // which call it was in then: orig_rax >= 0 means inside a syscall.
        const user_regs_struct& r = *stopped_regs;
        long nr = static_cast<long>(static_cast<long long>(r.orig_rax));
        e.syscall_number = nr >= 0 ? nr : -1;
        e.syscall_args = {r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9};
      } else {
        e.syscall_number = sc.number;
        e.syscall_args = sc.args;
      }
    } catch (const Error&) {
      e.capture = ThreadCapture::exited;
    }
    if (const Region* r = region_of(sp)) {
      e.stack_limit = r->start;
      e.stack_base = r->end;
    }
  }

  void hold_threads() {
    for (StoppedThread& st : threads_) {
      if (st.traced.seized()) s_.held.push_back(std::move(st.traced));
    }
  }

  void finish_regions() {
    // Module identities are read whatever the flags (outside the pause): the writer's module
    // list needs them. The caller sees them only when it asked for section information.
    os::attach_module_identities(s_.pid, s_.regions, s_.memory(), scratch_);
    for (Region& r : s_.regions) {
      if (r.copy == RegionCopy::copied_in_pause || r.copy == RegionCopy::unreadable) continue;
      if (!(r.prot & PROT_READ) || r.io || r.path == "[vsyscall]") {
        r.copy = RegionCopy::unreadable;
      } else if (s_.mode == MemoryMode::clone) {
        r.copy = r.shared ? RegionCopy::shared_live : RegionCopy::clone;
      } else if (s_.mode == MemoryMode::hold) {
        r.copy = RegionCopy::held;
      } else {
        r.copy = RegionCopy::live;
      }
    }
    if ((s_.flags & capture::kVaSpace) && !(s_.flags & capture::kVaSpaceSectionInformation)) {
      s_.regions_without_sections.reserve(s_.regions.size());
      for (const Region& r : s_.regions) s_.regions_without_sections.push_back(copy_without_identity(r, s_.memory()));
    }
  }

  [[noreturn]] static void throw_thread_gone() { throw Error(Errc::no_such_process, "thread exited"); }

  detail::SnapshotState& s_;
  const CaptureOptions& o_;
  os::VmArena scratch_arena_;  // declared before scratch_, which may point at it
  std::pmr::memory_resource* scratch_;
  uint64_t gadget_ = 0;
  bool orphan_clone_ = false;
  uint64_t pause_start_ = 0;
  std::pmr::vector<pid_t> tids_;   // the latest listing of /proc/PID/task
  std::pmr::vector<pid_t> known_;  // sorted: every thread seen so far
  std::pmr::vector<StoppedThread*> fresh_;  // the threads the current pass stops
  std::pmr::deque<StoppedThread> threads_;  // a deque: fresh_ points into it while it grows
  std::pmr::vector<pid_t> left_running_;
  std::pmr::vector<pid_t> exited_;
  std::pmr::vector<AuxiliaryPage> pages_;  // sorted by address once copied
};

}  // namespace

Snapshot Snapshot::capture(pid_t pid, CaptureFlags flags, ContextFlags context_flags,
                           const CaptureOptions& options) {
  validate(flags, options);
  bool vm_allocations = flags & capture::kCreateUseVmAllocations;
  // With kCreateUseVmAllocations the shared state and its control block get pages of their own
  // (the arena lives inside the state, so it cannot hold them).
  auto state = vm_allocations ? std::allocate_shared<detail::SnapshotState>(
                                    os::MmapAllocator<detail::SnapshotState>(), true)
                              : std::make_shared<detail::SnapshotState>(false);
  state->pid = pid;
  state->flags = flags;
  state->context_flags = context_flags;
  state->mode = (flags & capture::kVaClone) ? MemoryMode::clone
                : options.hold            ? MemoryMode::hold
                                          : MemoryMode::auxiliary_pages;
  state->tracer.emplace();
  state->tracer->run([&] {
    try {
      Capturer(*state, options).run();
    } catch (...) {
      // Undo on the tracer thread: the clone and held threads are its tracees.
      state->clone.reset();
      state->held.clear();
      throw;
    }
  });
  if (!state->clone && state->held.empty()) state->tracer.reset();
  return Snapshot(std::move(state));
}

}  // namespace snapdump
