// Snapshot::capture: the phases of a capture, in the order that keeps the target's pause short.
//   1. before the stop: validate, check permissions, start the tracer, read /proc (process,
//                       smaps), find a gadget
//   2. the stop:        in the tracer (src/linux/target_pause.h): interrupt every thread, read
//                       registers, then clone or copy pages
//   3. after the stop:  names, times, handles, ELF identities (read from the clone if any)
// Everything that touches ptrace runs in the snapshot's tracer (src/linux/tracer_client.h).
#include <fcntl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "common/phase_timer.h"
#include "common/records_in.h"
#include "linux/breakaway.h"
#include "linux/elf_identity.h"
#include "linux/fd_inspect.h"
#include "linux/permissions.h"
#include "linux/process_memory.h"
#include "linux/proc_files.h"
#include "linux/procfs.h"
#include "linux/syscall_injection.h"
#include "linux/tracer_client.h"
#include "linux/va_clone.h"
#include "snapshot/snapshot_state.h"
#include "snapshot/thread_start.h"

namespace snapdump {
namespace {

// Test hook: SNAPDUMP_TEST_STALL_AT=<phase>[:<ms>] makes the capture announce the phase on
// stderr and sleep there (an hour by default), so tests can SIGKILL snapdump, or kill the
// target, at that exact point. Phases here: before-stop, after-resume; the tracer has in-pause
// and after-clone (src/linux/target_pause.cpp). Once a VA clone exists, the announcement names it.
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

// Test seam: a program that defines this function is told, on the thread that captures, when
// the capture begins (before the first /proc read) and ends (the snapshot complete). The
// heap-use test counts allocations in between.
extern "C" __attribute__((weak)) void snapdump_test_capture_observer(bool begins);
struct ObservedCapture {
  ObservedCapture() {
    if (snapdump_test_capture_observer != nullptr) snapdump_test_capture_observer(true);
  }
  ~ObservedCapture() {
    if (snapdump_test_capture_observer != nullptr) snapdump_test_capture_observer(false);
  }
};

// With kCreateUseVmAllocations nothing in the capture takes from the heap (the test in
// tests/integration/vm_allocations_test.cpp counts every operator new and malloc): what the
// snapshot keeps is allocated from s_.memory(), the snapshot's mmap arena, and what the capture
// only reads on the way (/proc texts, ELF headers, socket tables) from scratch(), an arena that
// dies with the Capturer. Without the flag both are the heap. The pause itself runs in the
// tracer (src/linux/tracer_client.h), which sends back what it saw.
class Capturer {
 public:
  Capturer(detail::SnapshotState& s, const CaptureOptions& o, bool& started)
      : s_(s), o_(o), started_(started),
        scratch_(s.arena ? static_cast<std::pmr::memory_resource*>(&scratch_arena_) : std::pmr::new_delete_resource()) {}

  void run() {
    ObservedCapture observed;
    PhaseTimer total(s_.perf.total);
    os::check_traceable(s_.pid, scratch_);
    started_ = true;
    // Started now, it comes up while /proc is read; its start-up is not part of the pause.
    s_.tracer.emplace(s_.pid);
    s_.process = os::read_process_info(s_.pid, s_.memory(), scratch_);
    {
      PhaseTimer t(s_.perf.va_space);
      s_.regions = os::read_maps(s_.pid, /*with_smaps=*/true, s_.memory(), scratch_);
      optional_file("maps", s_.process.maps_text);
    }
    os::tracer::PauseRequest request(scratch_);
    fill_request(request);
    test_stall_point("before-stop");

    os::PauseReply reply(s_.memory());
    s_.tracer->pause(request, reply);
    take_pause(reply);
    // Nothing held (auxiliary pages, or threads left running): the tracer's work is done.
    if (s_.clone_pid == 0 && s_.mode != MemoryMode::hold) s_.tracer.reset();
    test_stall_point("after-resume", s_.clone_pid);

    finish_threads(reply);
    finish_regions(request, reply);
    optional_file("status", s_.process.status_text);
    optional_file("cmdline", s_.process.cmdline_raw);
    optional_file("environ", s_.process.environ_raw);
    optional_file("auxv", s_.process.auxv_raw);
    if (s_.flags & capture::kThreads) detail::attach_thread_starts(s_.pid, s_.regions, s_.process.auxv_raw, s_.threads, scratch_);
    if (s_.flags & capture::kHandles) {
      PhaseTimer t(s_.perf.handles);
      pid_t from = s_.clone_pid != 0 ? s_.clone_pid : s_.pid;
      s_.handles = os::read_handles(from, s_.flags, s_.memory(), scratch_);
    }
    if (s_.clone_pid != 0) {
      // Outside the pause. A failure here is not fatal: reads fall back to process_vm_readv.
      s_.clone_mem_fd = ::open(os::ProcPath(s_.clone_pid, "mem").c_str(), O_RDONLY | O_CLOEXEC);
      // The clone keeps no fd of the target open from here on: a socket the target closes
      // reaches EOF at its peer at once, not when the dump is done.
      s_.tracer->close_clone_files();
      if (s_.flags & (capture::kCreateBreakaway | capture::kCreateForceBreakaway)) {
        os::break_away(s_.clone_pid, s_.pid, (s_.flags & capture::kCreateBreakawayOptional) != 0, scratch_);
      }
    }
  }

 private:
  // A /proc/PID file a dump may carry; its absence (permissions, hidepid) is not an error:
  // `into` is left empty.
  void optional_file(const char* name, std::pmr::string& into) const {
    os::read_file(os::ProcPath(s_.pid, name).c_str(), into);
  }

  void fill_request(os::tracer::PauseRequest& r) {
    r.pid = s_.pid;
    r.mode = s_.mode == MemoryMode::clone ? os::tracer::PauseMode::clone
             : s_.mode == MemoryMode::hold ? os::tracer::PauseMode::hold
                                           : os::tracer::PauseMode::auxiliary_pages;
    r.leave_unrestartable_running = o_.leave_unrestartable_running;
    r.want_context = (s_.flags & capture::kThreadContext) != 0;
    r.want_xstate = (s_.flags & capture::kThreadContextExtended) != 0;
    r.context_flags = s_.context_flags;
    r.stop_timeout_ms = static_cast<uint32_t>(std::clamp<int64_t>(o_.stop_timeout.count(), 1, 3'600'000));
    r.vm_allocations = s_.arena.has_value();
    r.max_stack_bytes = o_.max_stack_bytes;
    r.instruction_window = o_.instruction_window;
    r.max_uncloneable_bytes = o_.max_uncloneable_bytes;
    for (const auto& range : o_.extra_ranges) r.extra_ranges.push_back(range);
    r.regions.reserve(s_.regions.size());
    for (const Region& region : s_.regions) {
      uint8_t populated = region.rss + region.swap > 0;
      r.regions.push_back({region.start, region.end, region.prot, region.dont_fork, region.wipe_on_fork, region.io,
                           populated});
    }
    if (s_.mode == MemoryMode::clone) {
      r.gadget = os::find_syscall_gadget(s_.pid, s_.regions, scratch_);
      r.orphan = os::clone_can_be_orphaned(s_.pid);
    }
  }

  void take_pause(os::PauseReply& reply) {
    const os::tracer::PauseSummary& sum = reply.summary;
    s_.pause_start_ns = sum.pause_start_ns;
    s_.pause_end_ns = sum.pause_end_ns;
    s_.perf.pause = sum.pause;
    s_.perf.threads = sum.threads;
    s_.perf.va_clone = sum.va_clone;
    s_.perf.clone_fork_ns = sum.fork_ns;
    s_.perf.helper_thread_stop_ns = sum.helper_stop_ns;
    s_.perf.aux_pages = sum.aux_pages;
    s_.clone_pid = sum.clone_pid;
    s_.clone_orphaned = sum.clone_orphaned;
    if (s_.clone_pid != 0) s_.clone_created_ns = sum.pause_end_ns != 0 ? sum.pause_end_ns : monotonic_ns();
    // The pages move into the snapshot's list; their bytes stay where they were allocated.
    s_.aux_pages.reserve(reply.pages.size());
    for (AuxiliaryPage& page : reply.pages) s_.aux_pages.push_back(std::move(page));
  }

  void finish_threads(os::PauseReply& reply) {
    if (!(s_.flags & capture::kThreads)) return;
    s_.threads.reserve(reply.threads.size());
    for (size_t i = 0; i < reply.threads.size(); ++i) {
      ThreadEntry& e = reply.threads[i];
      if (e.capture == ThreadCapture::left_running) {
        os::SyscallState sc;
        if (os::read_syscall(s_.pid, e.tid, sc) != 0) e.capture = ThreadCapture::exited;
        e.regs.rip = sc.instruction_pointer;
        e.regs.rsp = sc.stack_pointer;
        e.context_flags = (s_.flags & capture::kThreadContext) ? context::kAmd64 : 0;
        fill_thread_details(e, nullptr, sc.stack_pointer);
      } else {
        const user_regs_struct& regs = reply.stop_regs[i];
        ThreadCapture was = e.capture;
        fill_thread_details(e, &regs, regs.rsp);
        // A thread that exited before it stopped keeps that verdict over what /proc says now.
        if (was == ThreadCapture::exited) e.capture = ThreadCapture::exited;
      }
      // Moved, not copied: a copy would put the XSAVE bytes back on the heap.
      s_.threads.push_back(std::move(e));
    }
    std::sort(s_.threads.begin(), s_.threads.end(),
              [](const ThreadEntry& a, const ThreadEntry& b) { return a.tid < b.tid; });
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
    if (const Region* r = find_region(s_.regions, sp)) {
      e.stack_limit = r->start;
      e.stack_base = r->end;
    }
  }

  void finish_regions(const os::tracer::PauseRequest& request, const os::PauseReply& reply) {
    // What the pause did with the regions the kernel does not clone.
    for (size_t i = 0; i < s_.regions.size() && i < reply.region_states.size(); ++i) {
      if (request.regions[i].start != s_.regions[i].start) continue;
      switch (reply.region_states[i]) {
        case os::tracer::RegionState::copied_in_pause: s_.regions[i].copy = RegionCopy::copied_in_pause; break;
        case os::tracer::RegionState::unreadable:
          s_.regions[i].copy = RegionCopy::unreadable;
          s_.regions[i].omitted = RegionOmission::over_copy_cap;
          break;
        case os::tracer::RegionState::changed_in_pause:
          s_.regions[i].copy = RegionCopy::unreadable;
          s_.regions[i].omitted = RegionOmission::changed_in_pause;
          break;
        case os::tracer::RegionState::kept_in_clone:
        case os::tracer::RegionState::untouched: break;
      }
    }
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
  bool& started_;
  os::VmArena scratch_arena_;  // declared before scratch_, which may point at it
  std::pmr::memory_resource* scratch_;
};

// A target that exits while it is captured makes whatever step is under way fail in its own way
// (a /proc file gone, a ptrace call refused, memory unreadable, an injected call cut short, a
// helper left unreaped): whatever the step, the user is told one thing. A process being killed
// is still on its way to a zombie for a moment after the step failed, so an error that already
// says something exited looks again for up to 200 ms; it stays as it is when the process lives
// on (one thread exited: an exec by another thread ends them all but the execing one).
bool exited_meanwhile(pid_t pid, const Error& e) {
  if (os::process_gone(pid)) return true;
  if (e.code() != Errc::process_exited) return false;
  for (int i = 0; i < 40; ++i) {
    timespec pause{0, 5'000'000};
    nanosleep(&pause, nullptr);
    if (os::process_gone(pid)) return true;
  }
  return false;
}

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
  bool started = false;  // the target existed and could be traced when the capture began
  try {
    Capturer(*state, options, started).run();
  } catch (const Error& e) {
    // The tracer undid the pause itself if it failed there; a later failure leaves a clone or
    // held threads, which closing the tracer releases.
    state->tracer.reset();
    if (started && exited_meanwhile(pid, e)) {
      throw Error(Errc::process_exited, fmt::format("process {} exited during capture", pid), e.sys_errno());
    }
    throw;
  } catch (...) {
    state->tracer.reset();
    throw;
  }
  return Snapshot(std::move(state));
}

}  // namespace snapdump
