#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "common/phase_timer.h"
#include "common/records_in.h"
#include "linux/pagemap_scan.h"
#include "linux/procfs.h"
#include "linux/process_memory.h"
#include "linux/write_front.h"
#include "snapshot/snapshot_state.h"

namespace snapdump {

const char* to_string(MemoryMode mode) noexcept {
  switch (mode) {
    case MemoryMode::clone: return "clone";
    case MemoryMode::auxiliary_pages: return "auxiliary-pages";
    case MemoryMode::hold: return "hold";
  }
  return "?";
}

namespace detail {

SnapshotState::SnapshotState(bool vm_allocations)
    : with_arena(vm_allocations && (arena.emplace(), true)),
      process(process_info_in(memory())),
      threads(memory()),
      regions(memory()),
      regions_without_sections(memory()),
      handles(memory()),
      aux_pages(memory()),
      released_ranges(memory()),
      pending_release(memory()) {}

std::pair<bool, uint64_t> SnapshotState::released_at(uint64_t address) const {
  std::lock_guard lock(release_mutex);
  auto it = std::upper_bound(released_ranges.begin(), released_ranges.end(), address,
                             [](uint64_t a, const std::pair<uint64_t, uint64_t>& r) { return a < r.first; });
  if (it != released_ranges.begin() && address < std::prev(it)->second) return {true, std::prev(it)->second};
  return {false, it == released_ranges.end() ? UINT64_MAX : it->first};
}

void SnapshotState::release() noexcept {
  released = true;
  if (clone_mem_fd >= 0) {
    close(clone_mem_fd);
    clone_mem_fd = -1;
  }
  if (!tracer) return;
  try {
    os::tracer::ReleaseSummary r = tracer->release();
    if (mode == MemoryMode::hold && r.pause_end_ns != 0) pause_end_ns = r.pause_end_ns;
  } catch (...) {
    // The tracer is gone: the kernel released what it held.
  }
  if (mode == MemoryMode::hold && pause_end_ns == 0) pause_end_ns = monotonic_ns();
  if (mode == MemoryMode::hold) perf.pause.wall_ns = pause_end_ns - pause_start_ns;
  // Closing the connection ends the tracer; it has nothing left to release.
  tracer.reset();
}

SnapshotState::~SnapshotState() { release(); }
}  // namespace detail

namespace {

template <class T>
const T* walk(std::span<const T> items, WalkMarker& marker) {
  if (marker.position() >= items.size()) return nullptr;
  const T* item = &items[marker.position()];
  marker.set_position(marker.position() + 1);
  return item;
}

[[noreturn]] void not_captured(const char* what, const char* flag) {
  throw Error(Errc::not_captured, fmt::format("the snapshot holds no {}: capture with {}", what, flag));
}

}  // namespace

const detail::SnapshotState& Snapshot::state() const {
  if (!state_) throw Error(Errc::invalid_argument, "empty snapshot handle (freed or never captured)");
  return *state_;
}

CaptureFlags Snapshot::flags() const { return state().flags; }
ContextFlags Snapshot::context_flags() const { return state().context_flags; }
MemoryMode Snapshot::memory_mode() const { return state().mode; }
pid_t Snapshot::pid() const { return state().pid; }
const ProcessInfo& Snapshot::process() const { return state().process; }

std::optional<pid_t> Snapshot::va_clone_pid() const {
  if (state().clone_pid == 0) return std::nullopt;
  return state().clone_pid;
}

std::span<const ThreadEntry> Snapshot::threads() const {
  if (!(state().flags & capture::kThreads)) not_captured("threads", "kThreads");
  return state().threads;
}
std::span<const Region> Snapshot::regions() const {
  if (!(state().flags & capture::kVaSpace)) not_captured("VA space", "kVaSpace");
  // Module identities are section information: shown only when it was asked for.
  if (!(state().flags & capture::kVaSpaceSectionInformation)) return state().regions_without_sections;
  return state().regions;
}
std::span<const Region> Snapshot::memory_map() const { return state().regions; }
std::span<const HandleEntry> Snapshot::handles() const {
  if (!(state().flags & capture::kHandles)) not_captured("handles", "kHandles");
  return state().handles;
}
std::span<const AuxiliaryPage> Snapshot::auxiliary_pages() const { return state().aux_pages; }
PerformanceCounters Snapshot::performance() const {
  if (!(state().flags & capture::kCreateMeasurePerformance)) {
    not_captured("performance counters", "kCreateMeasurePerformance");
  }
  PerformanceCounters perf = state().perf;
  if (state().clone_pid != 0 && !state().released) perf.clone_lifetime_ns = monotonic_ns() - state().clone_created_ns;
  perf.pause.wall_ns = static_cast<uint64_t>(pause().count());
  return perf;
}
std::chrono::nanoseconds Snapshot::helper_thread_stop() const {
  return std::chrono::nanoseconds(state().perf.helper_thread_stop_ns);
}
std::chrono::nanoseconds Snapshot::pause() const {
  const auto& s = state();
  // A hold lasts until the target is let go: until then the pause is as long as it has been.
  if (s.mode == MemoryMode::hold && s.pause_end_ns == 0 && s.pause_start_ns != 0) {
    return std::chrono::nanoseconds(monotonic_ns() - s.pause_start_ns);
  }
  return std::chrono::nanoseconds(s.perf.pause.wall_ns);
}

void Snapshot::check_intact() const {
  const auto& s = state();
  if (s.released) {
    throw Error(Errc::invalid_argument, "the snapshot's target was released (release_target()): its memory "
                                        "is no longer the captured point in time");
  }
  if (!s.tracer) return;  // nothing held: auxiliary pages are in the snapshot itself
  os::TracerStatus st = s.tracer->status();
  if (st.hold_broken) throw Error(Errc::process_exited, st.reason);
}

bool Snapshot::memory_released() const {
  std::lock_guard lock(state().release_mutex);
  return !state().released_ranges.empty();
}

void Snapshot::release_memory(uint64_t start, uint64_t end) const {
  auto& s = state();
  if (s.clone_pid == 0 || s.released || !s.tracer) return;
  constexpr uint64_t kBatch = 32u << 20;  // one injected madvise batch per 32 MiB written
  std::pmr::vector<std::pair<uint64_t, uint64_t>> batch(s.memory());
  if (end <= start) {
    // Flush what waits.
    std::lock_guard lock(s.release_mutex);
    batch.swap(s.pending_release);
    s.pending_release_bytes = 0;
  }
  if (end > start) {
    std::lock_guard lock(s.release_mutex);
    auto& r = s.released_ranges;
    auto it = std::lower_bound(r.begin(), r.end(), std::make_pair(start, end));
    it = r.insert(it, {start, end});
    // Merge with the neighbours it touches.
    if (it != r.begin() && std::prev(it)->second >= it->first) {
      std::prev(it)->second = std::max(std::prev(it)->second, it->second);
      it = std::prev(r.erase(it));
    }
    while (std::next(it) != r.end() && std::next(it)->first <= it->second) {
      it->second = std::max(it->second, std::next(it)->second);
      r.erase(std::next(it));
    }
    auto& p = s.pending_release;
    if (!p.empty() && p.back().second == start) {
      p.back().second = end;
    } else {
      p.emplace_back(start, end);
    }
    s.pending_release_bytes += end - start;
    if (s.pending_release_bytes < kBatch) return;
    batch.swap(p);
    s.pending_release_bytes = 0;
  }
  if (batch.empty()) return;
  try {
    s.tracer->drop_clone_memory(batch);
  } catch (const Error&) {
    // The tracer is gone: so is the clone, and with it what there was to drop.
  }
}

bool Snapshot::target_running() const { return !os::process_gone(state().pid); }

void Snapshot::release_target() {
  if (state_) state_->release();
}

const ThreadEntry* Snapshot::walk_threads(WalkMarker& m) const { return walk(threads(), m); }
const Region* Snapshot::walk_regions(WalkMarker& m) const { return walk(regions(), m); }
const HandleEntry* Snapshot::walk_handles(WalkMarker& m) const { return walk(handles(), m); }
const AuxiliaryPage* Snapshot::walk_auxiliary_pages(WalkMarker& m) const {
  return walk(auxiliary_pages(), m);
}

size_t Snapshot::read_memory(uint64_t address, std::span<uint8_t> out, ReadSource* source) const {
  const auto& s = state();
  if (source) *source = ReadSource::none;
  size_t done = 0;
  while (done < out.size()) {
    uint64_t at = address + done;
    if (at < address) break;  // wrapped around the address space
    size_t want = out.size() - done;
    // Auxiliary pages win: they hold bytes the clone lacks or the live target has changed.
    auto next_aux = std::upper_bound(s.aux_pages.begin(), s.aux_pages.end(), at,
                                     [](uint64_t a, const AuxiliaryPage& p) { return a < p.address; });
    if (next_aux != s.aux_pages.begin()) {
      const AuxiliaryPage& p = *std::prev(next_aux);
      if (at < p.address + p.bytes.size()) {
        size_t n = std::min<uint64_t>(want, p.address + p.bytes.size() - at);
        std::memcpy(out.data() + done, p.bytes.data() + (at - p.address), n);
        done += n;
        if (source) *source = ReadSource::auxiliary_page;
        continue;
      }
    }
    auto region = std::upper_bound(s.regions.begin(), s.regions.end(), at,
                                   [](uint64_t a, const Region& r) { return a < r.start; });
    if (region == s.regions.begin()) break;
    const Region& r = *std::prev(region);
    if (at >= r.end) break;
    if (r.copy == RegionCopy::unreadable || r.copy == RegionCopy::copied_in_pause) break;
    uint64_t limit = r.end;
    if (next_aux != s.aux_pages.end()) limit = std::min(limit, next_aux->address);
    size_t n = std::min<uint64_t>(want, limit - at);
    bool from_clone = s.clone_pid != 0 && !s.released;
    if (from_clone && !s.released_ranges.empty()) {
      // Bytes the clone let go of (release_memory) are gone: the read stops there.
      auto [inside, next_released] = s.released_at(at);
      if (inside) break;
      n = std::min<uint64_t>(n, next_released - at);
    }
    size_t got = s.clone_mem_fd >= 0 ? os::read_mem_file(s.clone_mem_fd, at, out.subspan(done, n))
                                      : os::read_process_memory(from_clone ? s.clone_pid : s.pid, at, out.subspan(done, n));
    if (got > 0 && source) {
      *source = from_clone ? ReadSource::clone
                           : (s.mode == MemoryMode::hold && !s.released ? ReadSource::held : ReadSource::live);
    }
    done += got;
    if (got < n) break;
  }
  return done;
}

std::optional<std::vector<std::pair<uint64_t, uint64_t>>> Snapshot::populated(uint64_t start, uint64_t end) const {
  const auto& s = state();
  return os::populated_ranges(s.clone_pid != 0 && !s.released ? s.clone_pid : s.pid, start, end);
}

std::optional<uint64_t> Snapshot::write_front(std::span<const std::pair<uint64_t, uint64_t>> ranges,
                                              uint64_t min_pages) const {
  const auto& s = state();
  if (s.clone_pid == 0 || s.released) return std::nullopt;
  return os::write_front(s.pid, ranges, min_pages);
}

const Region* find_region(std::span<const Region> regions, uint64_t address) {
  auto it = std::upper_bound(regions.begin(), regions.end(), address,
                             [](uint64_t a, const Region& r) { return a < r.start; });
  if (it == regions.begin()) return nullptr;
  --it;
  return address < it->end ? &*it : nullptr;
}

CaptureFlags choose_memory_capture(uint64_t needed_bytes, uint64_t process_bytes) {
  // The stop-and-copy pause grows with the bytes copied (a few GB/s); the clone pause grows with
  // the page tables copied, about a 32nd as fast per mapped byte. Copy while that is cheaper,
  // never less than 4 MiB (a clone's fixed cost). bench/capture_pause_bench measures both.
  uint64_t copy_limit = std::max<uint64_t>(4u << 20, process_bytes / 32);
  return needed_bytes <= copy_limit ? capture::kNone : capture::kVaClone;
}

}  // namespace snapdump
