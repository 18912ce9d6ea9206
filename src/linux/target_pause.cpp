#include "linux/target_pause.h"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "common/phase_timer.h"
#include "common/ranges.h"
#include "common/records_in.h"
#include "linux/process_memory.h"
#include "linux/procfs.h"
#include "linux/seccomp_filter.h"
#include "linux/syscall_injection.h"
#include "linux/syscall_restart.h"

namespace snapdump::os {
namespace {

// Test seam: a program that defines this function is told when the target's pause begins (true)
// and ends (false), on the thread that runs it. Only a tracer that is a thread of the test
// binary itself (tracer_client.h's in-process mode) can see it; the heap-use test counts
// allocations in between.
extern "C" __attribute__((weak)) void snapdump_test_pause_observer(bool begins);
void observe_pause(bool begins) {
  if (snapdump_test_pause_observer != nullptr) snapdump_test_pause_observer(begins);
}

using Ranges = std::pmr::vector<std::pair<uint64_t, uint64_t>>;

bool kernel_at_least(int major, int minor) {
  utsname u{};
  int have_major = 0, have_minor = 0;
  if (uname(&u) != 0 || std::sscanf(u.release, "%d.%d", &have_major, &have_minor) != 2) return false;
  return have_major > major || (have_major == major && have_minor >= minor);
}

}  // namespace

TargetPause::TargetPause(const tracer::PauseRequest& request, std::pmr::memory_resource* memory,
                         bool (*owner_gone)(void*), void* context)
    : request_(request),
      pause_memory_(memory),
      memory_(&pause_memory_),
      owner_gone_(owner_gone),
      context_(context),
      tids_(memory_),
      known_(memory_),
      fresh_(memory_),
      threads_(memory_),
      left_running_(memory_),
      exited_(memory_),
      pages_(memory_),
      region_states_(request.regions.size(), tracer::RegionState::untouched, memory_) {}

void TargetPause::check_owner() {
  if (owner_gone_ != nullptr && owner_gone_(context_)) throw OwnerGone{};
}

// Test hook: SNAPDUMP_TEST_STALL_AT=<phase>[:<ms>] makes the pause announce the phase on stderr
// and wait there (an hour by default), so tests can SIGKILL snapdump, or kill the target, at that
// exact point. The wait ends early when the library is gone: the pause then undoes itself, as it
// would at any step. Once a VA clone exists, the announcement names it.
void TargetPause::stall(const char* phase, pid_t clone) {
  const char* wanted = std::getenv("SNAPDUMP_TEST_STALL_AT");
  if (wanted == nullptr) return;
  std::string spec(wanted);
  if (spec.substr(0, spec.find(':')) != phase) return;
  unsigned ms = spec.find(':') == std::string::npos ? 3'600'000u
                                                    : static_cast<unsigned>(std::stoul(spec.substr(spec.find(':') + 1)));
  std::string line = clone != 0 ? fmt::format("snapdump: stalled at {} (clone {})\n", phase, clone)
                                : fmt::format("snapdump: stalled at {}\n", phase);
  (void)!write(2, line.data(), line.size());
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < end) {
    check_owner();
    timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
}

void TargetPause::run() {
  // A library that died after it asked gets no pause at all.
  check_owner();
  try {
    if (int err = list_threads(request_.pid, tids_); err == 0) {
      prepare_memory();
      // Room for every thread known now and a burst more, so the pause's lists do not grow.
      known_.reserve(2 * tids_.size() + 64);
      fresh_.reserve(2 * tids_.size() + 64);
      if (request_.mode == tracer::PauseMode::auxiliary_pages) {
        pages_.reserve(2 * tids_.size() + request_.extra_ranges.size() + 8);
      }
    }
    if (request_.mode == tracer::PauseMode::clone) {
      // The helper the clone is forked from, made through one thread while the others run:
      // its three injected calls (about a millisecond) are not part of every thread's pause.
      fork_helper_ = ForkHelper::make_before_pause(
          request_.pid, request_.gadget, request_.orphan, std::chrono::milliseconds(request_.stop_timeout_ms),
          [](void* self, const char* step) { static_cast<TargetPause*>(self)->stall(step); }, this);
      summary_.helper_stop_ns = fork_helper_.carrier_stop_ns();
      check_owner();
      if (fork_helper_.ready()) stall("helper-made");
    }
    stop_all();
    check_owner();
    stall("in-pause");
    read_registers();
    if (request_.mode == tracer::PauseMode::clone) {
      check_owner();
      make_clone();
      stall("after-clone", clone_->pid());
      check_owner();
    } else if (request_.mode == tracer::PauseMode::auxiliary_pages) {
      PhaseTimer a(summary_.aux_pages);
      copy_ranges(plan_auxiliary_ranges(), AuxiliaryPage::Why::stack);
    }
    if (request_.mode != tracer::PauseMode::hold) release_threads();
    observe_pause(false);
    fork_helper_ = ForkHelper();  // an orphaned helper, killed now that the target runs
  } catch (...) {
    // Threads first, then the clone and the helper: one that is not an orphan is reaped through
    // a stop of one target thread, which must not be held by this pause any more.
    release_threads();
    clone_.reset();
    fork_helper_ = ForkHelper();
    if (summary_.pause_start_ns != 0) observe_pause(false);
    throw;
  }
  summary_.clone_pid = clone_ ? clone_->pid() : 0;
  summary_.fork_ns = clone_ ? clone_->fork_ns() : 0;
  summary_.clone_orphaned = clone_ && clone_->orphaned();
  summary_.thread_count = static_cast<uint32_t>(threads_.size() + left_running_.size());
  summary_.page_count = static_cast<uint32_t>(pages_.size());
  summary_.region_count = static_cast<uint32_t>(region_states_.size());
}

// How much the pause writes, roughly and on the generous side, so that it all lands in memory
// made ready before the stop (pause_memory.h): per thread its entry and list slots, its XSAVE
// area when asked for, and in auxiliary-pages mode its stack in use up to 32 KiB, its two
// instruction windows and their page records; plus the extra ranges; with a clone, the maps
// file the pause checks the MADV_DONTFORK regions against. At most 16 MiB: a deeper
// stack or a larger process takes the rest from the heap (or the VM arena), as before.
void TargetPause::prepare_memory() {
  constexpr uint64_t kStackPart = uint64_t{32} << 10, kMost = uint64_t{16} << 20;
  uint64_t per_thread = sizeof(StoppedThread) + 8 * sizeof(pid_t) + 4 * sizeof(void*) + 256;
  if (request_.want_xstate || (request_.context_flags & context::kXState & ~context::kAmd64)) per_thread += 4096;
  uint64_t extra = 0;
  if (request_.mode == tracer::PauseMode::clone) {
    // The maps file read again in the pause (about 100 bytes of text a mapping, in a string that
    // grows by doubling), its extents, and the runs planned from them.
    extra += request_.regions.size() * (512 + sizeof(MapExtent) + 4 * sizeof(std::pair<uint64_t, uint64_t>));
  }
  if (request_.mode == tracer::PauseMode::auxiliary_pages) {
    per_thread += std::min<uint64_t>(request_.max_stack_bytes, kStackPart) + 2 * request_.instruction_window +
                  2 * (sizeof(AuxiliaryPage) + sizeof(RangeRead) + sizeof(std::pair<uint64_t, uint64_t>) + 64);
    for (const auto& [lo, hi] : request_.extra_ranges) {
      extra += (hi > lo ? std::min<uint64_t>(hi - lo, kMost) : 0) + sizeof(AuxiliaryPage) + 128;
    }
  }
  pause_memory_.prepare(static_cast<size_t>(std::min(per_thread * (tids_.size() + 8) + extra + 4096, kMost)));
}

void TargetPause::stop_all() {
  // Seize first (no stop yet), then interrupt: the pause starts at the first interrupt. New
  // threads can appear until every thread is stopped, so list again until a pass finds none: a
  // stopped thread cannot create one.
  std::chrono::milliseconds timeout(request_.stop_timeout_ms);
  bool first_pass = true;
  for (;;) {
    if (list_threads(request_.pid, tids_) != 0) {
      throw Error(Errc::process_exited, fmt::format("process {} exited during capture", request_.pid));
    }
    fresh_.clear();
    for (pid_t tid : tids_) {
      auto at = std::lower_bound(known_.begin(), known_.end(), tid);
      if (at != known_.end() && *at == tid) continue;
      known_.insert(at, tid);
      if (request_.leave_unrestartable_running) {
        SyscallState sc;
        if (read_syscall(request_.pid, tid, sc) != 0) {
          exited_.push_back(tid);  // gone between listing and reading: not an error
          continue;
        }
        if (interrupted_by_stop(sc.number)) {
          left_running_.push_back(tid);
          continue;
        }
      }
      // The entry's XSAVE vector takes the pause's allocator here, once: later moves keep it.
      StoppedThread& st = threads_.emplace_back(StoppedThread{TracedThread(tid), thread_entry_in(tid, memory_), {}});
      if (!st.traced.seize()) {
        exited_.push_back(tid);
        continue;
      }
      fresh_.push_back(&st);
    }
    if (fresh_.empty() && !first_pass) break;
    if (first_pass) {
      observe_pause(true);
      summary_.pause_start_ns = monotonic_ns();
    }
    first_pass = false;
    for (StoppedThread* t : fresh_) t->traced.interrupt();
    for (StoppedThread* t : fresh_) {
      if (t->traced.wait_stop(timeout) == StopResult::exited) exited_.push_back(t->entry.tid);
    }
    if (fresh_.empty()) break;
  }
  bool leader_alive = std::any_of(threads_.begin(), threads_.end(),
                                  [&](const StoppedThread& t) { return t.traced.seized(); }) ||
                      !left_running_.empty();
  if (!leader_alive) {
    throw Error(Errc::process_exited, fmt::format("process {} exited during capture", request_.pid));
  }
}

// The threads phase of the performance counters: registers only, so the phases add up.
void TargetPause::read_registers() {
  PhaseTimer t(summary_.threads);
  bool want_context = request_.want_context;
  bool want_xstate = request_.want_xstate;
  ContextFlags cf = request_.context_flags;
  for (StoppedThread& st : threads_) {
    if (!st.traced.seized()) continue;
    st.traced.get_regs(st.regs);
    st.entry.capture_time_unix_ns = realtime_ns();
    if (!want_context && !want_xstate) continue;
    st.entry.regs = st.regs;
    st.entry.context_flags = want_context ? (cf & (context::kAll)) : 0;
    bool want_fp = want_context && (cf & context::kFloatingPoint & ~context::kAmd64);
    if (want_xstate || (cf & context::kXState & ~context::kAmd64)) {
      // On the stack first, then exactly its size into the entry (the kernel says how much of
      // the buffer the XSAVE layout of this CPU fills).
      alignas(64) uint8_t area[16384];
      size_t n = st.traced.get_xstate(area);
      st.entry.xsave.assign(area, area + n);
      if (!st.entry.xsave.empty()) st.entry.context_flags |= context::kXState;
    }
    if (want_fp) {
      // The XSAVE area starts with the FXSAVE image GETFPREGS returns: one ptrace call less per
      // thread, inside the pause.
      if (st.entry.xsave.size() >= sizeof(user_fpregs_struct)) {
        std::memcpy(&st.entry.fpregs, st.entry.xsave.data(), sizeof(user_fpregs_struct));
      } else {
        st.traced.get_fpregs(st.entry.fpregs);
      }
    }
    if (want_context && (cf & context::kDebugRegisters & ~context::kAmd64)) {
      st.entry.debug_registers = st.traced.get_debug_registers();
    }
  }
}

// The MADV_DONTFORK regions the clone should hold: readable, not I/O, not also MADV_WIPEONFORK,
// with pages in them, and still exactly as the maps read before the stop said (the target may
// have mapped, unmapped or moved memory until it stopped; only the extents are read from the
// maps file, which costs a tenth of a millisecond where smaps, or maps parsed into Regions, cost
// one or more).
//
// Regions with nothing mapped between them make one run, one madvise() each way, although the
// run has holes (`gapped`): madvise() changes every mapping in the range it is given and, for
// the holes, returns ENOMEM once it is done. Each call is a ptrace round trip inside the pause,
// and V8 scatters its heap over hundreds of MADV_DONTFORK mappings with holes between them
// (node: 304 regions in 7 runs): run by run, the pause paid two round trips per region. A run
// never spans a mapping that is not in it, so the call changes exactly the regions planned, and
// setting MADV_DONTFORK again over the same range restores exactly what was.
void TargetPause::plan_dontfork_runs(Ranges& runs, std::pmr::vector<uint8_t>& gapped,
                                     std::pmr::vector<size_t>& first_region) {
  // Before Linux 5.9 a fork made DMA-pinned pages copy-on-write in the parent, the very harm
  // MADV_DONTFORK guards against (docs/capture.md): there the regions are copied instead.
  if (!kernel_at_least(5, 9)) return;
  bool any = std::any_of(request_.regions.begin(), request_.regions.end(), [](const tracer::RegionBrief& r) {
    return r.dont_fork && !r.wipe_on_fork && !r.io && (r.prot & PROT_READ) && r.populated;
  });
  if (!any) return;
  std::pmr::vector<MapExtent> now = read_map_extents(request_.pid, memory_);
  auto unchanged = [&](const tracer::RegionBrief& r) {
    auto it = std::lower_bound(now.begin(), now.end(), r.start, [](const MapExtent& a, uint64_t v) { return a.start < v; });
    return it != now.end() && it->start == r.start && it->end == r.end && it->prot == r.prot;
  };
  // Whether no mapping of the stopped target's lies in [from, to).
  auto nothing_mapped_between = [&](uint64_t from, uint64_t to) {
    auto it = std::lower_bound(now.begin(), now.end(), from, [](const MapExtent& a, uint64_t v) { return a.end <= v; });
    return it == now.end() || it->start >= to;
  };
  for (size_t i = 0; i < request_.regions.size(); ++i) {
    const tracer::RegionBrief& r = request_.regions[i];
    if (!r.dont_fork || r.wipe_on_fork || r.io || !(r.prot & PROT_READ) || !r.populated) continue;
    if (!unchanged(r)) {
      region_states_[i] = tracer::RegionState::changed_in_pause;
      continue;
    }
    region_states_[i] = tracer::RegionState::kept_in_clone;  // confirmed once the fork is done
    if (!runs.empty() && nothing_mapped_between(runs.back().second, r.start)) {
      gapped.back() |= runs.back().second != r.start;
      runs.back().second = r.end;
    } else {
      runs.emplace_back(r.start, r.end);
      gapped.push_back(0);
      first_region.push_back(i);
    }
  }
}

// Whether the carrier's seccomp filters (which the helpers inherit) let the madvise() calls
// through; if not, the regions are copied in the pause as before.
bool TargetPause::madvise_allowed(pid_t carrier, const Ranges& runs) const {
  if (runs.empty() || seccomp_mode(request_.pid, carrier) == SECCOMP_MODE_DISABLED) return true;
  for (int advice : {MADV_DOFORK, MADV_DONTFORK}) {
    SyscallArgs args{runs.front().first, runs.front().second - runs.front().first, static_cast<uint64_t>(advice), 0, 0, 0};
    if (check_seccomp(request_.pid, carrier, injected_call(SYS_madvise, args, request_.gadget)).verdict !=
        SeccompVerdict::allowed) {
      return false;
    }
  }
  return true;
}

void TargetPause::make_clone() {
  PhaseTimer t(summary_.va_clone);
  // Any stopped thread can carry the injected clone(): its own interrupted call restarts. Prefer
  // one that no pending signal stopped, so that signal's delivery is untouched, and one that is
  // not the thread-group leader: if the target is killed while a call is injected, the leader's
  // death is not reported to its tracer until its sibling threads are reaped, which, traced, only
  // the tracer does, so the tracer's wait for the leader's syscall stop would never return (seen:
  // a target SIGKILLed during the injected clone() left the tracer waiting forever and the dump
  // hanging). A single-threaded target's leader has no siblings to wait for.
  // Of the two, the leader rule wins: a hang outweighs a signal delivered after an injected call.
  auto rank = [&](const StoppedThread& st) {
    return (st.traced.tid() == request_.pid ? 2 : 0) + (st.traced.pending_signal() ? 1 : 0);
  };
  StoppedThread* carrier = nullptr;
  for (StoppedThread& st : threads_) {
    if (!st.traced.seized()) continue;
    if (!carrier || rank(st) < rank(*carrier)) carrier = &st;
  }
  if (!carrier) throw Error(Errc::process_exited, "no thread of the target is left to clone");
  // The kernel leaves MADV_DONTFORK regions out of a fork: their flag is cleared for the fork
  // and set again right after, so the clone holds them and nothing is copied in the pause.
  Ranges runs(memory_);
  std::pmr::vector<uint8_t> gapped(memory_);
  std::pmr::vector<size_t> first_region(memory_);
  plan_dontfork_runs(runs, gapped, first_region);
  if (!madvise_allowed(carrier->traced.tid(), runs)) {
    for (auto& state : region_states_) {
      if (state == tracer::RegionState::kept_in_clone) state = tracer::RegionState::untouched;
    }
    runs.clear();
  }
  std::pmr::vector<uint8_t> kept(runs.size(), 0, memory_);
  auto hook = [](void* self, const char* step) { static_cast<TargetPause*>(self)->stall(step); };
  // No thread could make the helper before the pause (each was in a call a stop interrupts, or
  // stopped with a signal): the carrier makes it now.
  if (!fork_helper_.ready()) {
    fork_helper_ = ForkHelper::make(request_.pid, carrier->traced, carrier->regs, request_.gadget, request_.orphan, hook, this);
  }
  clone_.emplace(VaClone::create(request_.pid, fork_helper_, carrier->traced, request_.gadget, {runs, gapped, kept},
                                 hook, this));
  // A run whose flag could not be cleared is copied below instead.
  for (size_t k = 0; k < runs.size(); ++k) {
    if (kept[k]) continue;
    for (size_t i = first_region[k]; i < request_.regions.size() && request_.regions[i].start < runs[k].second; ++i) {
      if (region_states_[i] == tracer::RegionState::kept_in_clone) region_states_[i] = tracer::RegionState::untouched;
    }
  }
  // MADV_WIPEONFORK regions are zero in the clone (clearing that flag, even for a moment, could
  // hand a secret to a child of the target's should snapdump's tracer die in that moment): they,
  // and any MADV_DONTFORK region not kept in the clone, are copied now, while the target is still
  // stopped, up to max_uncloneable_bytes; beyond that they are left out, and said so.
  Ranges uncloned(memory_);
  uint64_t total = 0;
  for (size_t i = 0; i < request_.regions.size(); ++i) {
    const tracer::RegionBrief& r = request_.regions[i];
    if (!(r.dont_fork || r.wipe_on_fork) || !(r.prot & PROT_READ) || r.io) continue;
    if (region_states_[i] != tracer::RegionState::untouched) continue;
    if (total + (r.end - r.start) > request_.max_uncloneable_bytes) {
      region_states_[i] = tracer::RegionState::unreadable;
      continue;
    }
    total += r.end - r.start;
    uncloned.emplace_back(r.start, r.end);
    region_states_[i] = tracer::RegionState::copied_in_pause;
  }
  copy_ranges(std::move(uncloned), AuxiliaryPage::Why::not_cloneable);
}

const tracer::RegionBrief* TargetPause::region_of(uint64_t address) const {
  const auto& regions = request_.regions;
  auto it = std::upper_bound(regions.begin(), regions.end(), address,
                             [](uint64_t a, const tracer::RegionBrief& r) { return a < r.start; });
  if (it == regions.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

Ranges TargetPause::plan_auxiliary_ranges() const {
  Ranges ranges(memory_);
  for (const StoppedThread& st : threads_) {
    if (!st.traced.seized()) continue;
    uint64_t sp = st.regs.rsp, ip = st.regs.rip;
    // The stack in use: from below the x86-64 red zone up to the top of its mapping.
    if (const tracer::RegionBrief* r = region_of(sp); r && (r->prot & PROT_READ)) {
      uint64_t lo = std::max<uint64_t>(r->start, sp >= 128 ? sp - 128 : 0);
      uint64_t hi = std::min<uint64_t>(r->end, lo + request_.max_stack_bytes);
      ranges.emplace_back(lo, hi);
    }
    if (const tracer::RegionBrief* r = region_of(ip); r && (r->prot & PROT_READ)) {
      uint64_t w = request_.instruction_window;
      uint64_t lo = std::max<uint64_t>(r->start, ip >= w ? ip - w : 0);
      uint64_t hi = std::min<uint64_t>(r->end, ip + w);
      ranges.emplace_back(lo, hi);
    }
  }
  for (const auto& extra : request_.extra_ranges) {
    if (extra.second > extra.first) ranges.push_back(extra);
  }
  return ranges;
}

// Copies [start, end) ranges from the stopped target into pages, merging overlaps: all of them
// in as few process_vm_readv calls as the ranges allow (read_process_ranges).
void TargetPause::copy_ranges(Ranges ranges, AuxiliaryPage::Why why) {
  merge_ranges(ranges);
  size_t first = pages_.size();
  pages_.reserve(first + ranges.size());  // the reads point into the pages: no reallocation
  std::pmr::vector<RangeRead> reads(memory_);
  reads.reserve(ranges.size());
  for (const auto& [lo, hi] : ranges) {
    AuxiliaryPage& page = pages_.emplace_back(auxiliary_page_in(lo, memory_));
    page.why = why;
    page.bytes.resize(hi - lo);
    reads.push_back({lo, page.bytes, 0});
  }
  read_process_ranges(request_.pid, reads);
  uint64_t now = realtime_ns();
  for (size_t k = 0; k < reads.size(); ++k) {
    AuxiliaryPage& page = pages_[first + k];
    page.bytes.resize(reads[k].got);
    page.capture_time_unix_ns = now;
    if (const tracer::RegionBrief* r = region_of(page.address)) page.prot = r->prot;
  }
  pages_.erase(std::remove_if(pages_.begin() + static_cast<std::ptrdiff_t>(first), pages_.end(),
                              [](const AuxiliaryPage& p) { return p.bytes.empty(); }),
               pages_.end());
  std::sort(pages_.begin(), pages_.end(),
            [](const AuxiliaryPage& a, const AuxiliaryPage& b) { return a.address < b.address; });
}

void TargetPause::release_threads() noexcept {
  if (released_) return;
  released_ = true;
  for (StoppedThread& st : threads_) st.traced.release();
  if (summary_.pause_start_ns != 0) {
    summary_.pause_end_ns = monotonic_ns();
    summary_.pause.wall_ns = summary_.pause_end_ns - summary_.pause_start_ns;
  }
}

}  // namespace snapdump::os
