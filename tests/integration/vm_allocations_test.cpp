// kCreateUseVmAllocations (PSS_CREATE_USE_VM_ALLOCATIONS): the capture takes nothing from the
// heap, and the snapshot's bulk bytes live in its own mappings. The heap is watched by
// tests/support/heap_counter.cpp, which replaces operator new (and malloc outside sanitizer
// builds) in this binary: the capture tells weak observers when it begins and ends
// (snapdump_test_capture_observer, on the capturing thread) and when the target's pause does
// (snapdump_test_pause_observer, on the tracer's thread), and every allocation on a watched
// thread is counted. The tracer normally is a process of its own, whose heap is not the
// caller's; these tests run it as a thread of this process (SNAPDUMP_TRACER=in-process, as
// under Yama ptrace_scope 1), where its allocations would be the caller's.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory_resource>

#include <gtest/gtest.h>

#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/heap_counter.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace {
std::atomic<int> g_pauses{0};
std::atomic<long> g_allocations_in_pause{0};
std::atomic<long> g_allocations_in_capture{0};
std::atomic<long> g_allocations_in_release{-1};
thread_local long t_pause_start = 0;
thread_local long t_capture_start = 0;
thread_local long t_release_start = 0;

// Watches the calling thread's heap from `begins` to its end, the count going to `result`.
void count_allocations(bool begins, long& start, std::atomic<long>& result) {
  if (begins) {
    snapdump::testing::heap_watch(true);
    start = snapdump::testing::heap_watched_count();
  } else {
    result = snapdump::testing::heap_watched_count() - start;
    snapdump::testing::heap_watch(false);
  }
}
}  // namespace

// Called on the thread that captures (src/snapshot/capture.cpp).
extern "C" void snapdump_test_capture_observer(bool begins) {
  count_allocations(begins, t_capture_start, g_allocations_in_capture);
}

// Called on the tracer's thread while it releases the clone and held threads.
extern "C" void snapdump_test_release_observer(bool begins) {
  count_allocations(begins, t_release_start, g_allocations_in_release);
}

// Called on the tracer's thread when the target's pause begins and ends.
extern "C" void snapdump_test_pause_observer(bool begins) {
  if (begins) g_pauses.fetch_add(1);
  count_allocations(begins, t_pause_start, g_allocations_in_pause);
}

namespace snapdump {
namespace {

using testing::TargetProcess;

constexpr CaptureFlags kRich = capture::kThreads | capture::kThreadContext |
                               capture::kThreadContextExtended | capture::kVaSpace |
                               capture::kHandles | capture::kHandleNameInformation;

struct Counted {
  Snapshot snapshot;
  long allocations = 0;          // in the pause, on the tracer's thread
  long capture_allocations = 0;  // in the whole capture, on the capturing thread
  long caller_allocations = 0;   // on the thread that called Snapshot::capture
  int pauses = 0;
};

// `in_process`: the tracer as a thread of this process, whose pause the observers see.
Counted capture_counted(pid_t pid, CaptureFlags flags, const CaptureOptions& options = {}, bool in_process = true) {
  g_allocations_in_pause = 0;
  g_allocations_in_capture = 0;
  g_pauses = 0;
  Counted c;
  long before = testing::heap_watched_count();
  if (in_process) setenv("SNAPDUMP_TRACER", "in-process", 1);
  testing::heap_watch(true);
  c.snapshot = Snapshot::capture(pid, flags, context::kAll | context::kXState, options);
  testing::heap_watch(false);
  unsetenv("SNAPDUMP_TRACER");
  c.caller_allocations = testing::heap_watched_count() - before;
  c.allocations = g_allocations_in_pause.load();
  c.capture_allocations = g_allocations_in_capture.load();
  c.pauses = g_pauses.load();
  return c;
}

bool on_heap(const std::pmr::vector<uint8_t>& v) {
  return v.get_allocator().resource()->is_equal(*std::pmr::new_delete_resource());
}

// The counter sees what it claims to see, or a 0 below proves nothing.
TEST(HeapCounter, SeesOperatorNewAndMallocOnWatchedThreadsOnly) {
  static void* volatile sink;
  long before = testing::heap_watched_count();
  sink = ::operator new(16);
  ::operator delete(sink);
  EXPECT_EQ(testing::heap_watched_count(), before) << "not watched";
  testing::heap_watch(true);
  sink = ::operator new(16);
  ::operator delete(sink);
  long after_new = testing::heap_watched_count();
  sink = std::malloc(16);
  std::free(sink);
  long after_malloc = testing::heap_watched_count();
  testing::heap_watch(false);
  EXPECT_EQ(after_new, before + 1);
  EXPECT_EQ(after_malloc, after_new + (testing::heap_watch_sees_malloc() ? 1 : 0));
}

// The counter must be able to see the pause's allocations, or a 0 below proves nothing. Without
// the flag the pause writes into memory made ready before the stop (src/linux/pause_memory.h),
// at most 16 MiB of it, and takes the rest from the heap: an extra range of 24 MiB must show.
TEST(VmAllocations, WithoutTheFlagThePauseAllocatesWhatItsPreparedMemoryCannotHold) {
  auto target = TargetProcess::spawn({"--threads", "6", "--avx", "--heap-mib", "24"});
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  CaptureOptions options;
  options.extra_ranges.push_back({heap, heap + (uint64_t{24} << 20)});
  Counted c = capture_counted(target->pid(), kRich, options);
  EXPECT_EQ(c.pauses, 1);
  EXPECT_GT(c.allocations, 0) << "24 MiB of copies do not fit in at most 16 MiB made ready before the pause";
  EXPECT_GT(c.capture_allocations, 0) << "the whole capture is watched on the capturing thread";
  for (const AuxiliaryPage& page : c.snapshot.auxiliary_pages()) EXPECT_TRUE(on_heap(page.bytes));
  std::vector<uint8_t> word(8);
  ASSERT_EQ(c.snapshot.read_memory(heap + (uint64_t{20} << 20), word), 8u);
  uint64_t value;
  std::memcpy(&value, word.data(), 8);
  EXPECT_EQ(value, testing::expected_heap_word(uint64_t{20} << 20));
}

// What `snapdump stacks` captures (registers, each thread's stack in use and instruction
// windows) fits in the memory made ready before the pause: no allocation, and so no fresh page,
// while the target is stopped, even without the flag.
TEST(VmAllocations, WithoutTheFlagAStacksPauseWritesOnlyPreparedMemory) {
  auto target = TargetProcess::spawn({"--threads", "6", "--idle-threads", "40"});
  Counted c = capture_counted(target->pid(), capture::kThreads | capture::kThreadContext);
  EXPECT_EQ(c.pauses, 1);
  EXPECT_EQ(c.allocations, 0) << "heap allocations inside the target's pause";
  EXPECT_GE(c.snapshot.auxiliary_pages().size(), 40u);
}

void expect_no_heap_in_capture(const std::vector<std::string>& target_args, CaptureFlags extra,
                             const CaptureOptions& options = {}) {
  auto target = TargetProcess::spawn(target_args);
  Counted c = capture_counted(target->pid(), kRich | extra | capture::kCreateUseVmAllocations, options);
  EXPECT_EQ(c.pauses, 1);
  EXPECT_EQ(c.allocations, 0) << "heap allocations inside the target's pause";
  EXPECT_EQ(c.capture_allocations, 0) << "heap allocations in the capture";
  EXPECT_EQ(c.caller_allocations, 0) << "heap allocations on the thread that called Snapshot::capture";
  const Snapshot& s = c.snapshot;
  ASSERT_GE(s.threads().size(), 7u);
  size_t with_xsave = 0;
  for (const ThreadEntry& t : s.threads()) {
    if (t.capture != ThreadCapture::stopped) continue;
    EXPECT_FALSE(on_heap(t.xsave)) << "thread " << t.tid;
    // The legacy region plus the XSAVE header at least, as the kernel hands it out.
    if (t.xsave.size() >= 576) ++with_xsave;
  }
  EXPECT_GT(with_xsave, 0u);
  for (const AuxiliaryPage& page : s.auxiliary_pages()) EXPECT_FALSE(on_heap(page.bytes));
  // The bytes are the target's: a stack read through the snapshot finds the stack.
  const ThreadEntry& main_thread = s.threads().front();
  std::vector<uint8_t> stack(256);
  EXPECT_EQ(s.read_memory(main_thread.regs.rsp, stack), stack.size());
  if (s.memory_mode() == MemoryMode::auxiliary_pages) {
    // Auxiliary pages hold each thread's stack.
    EXPECT_FALSE(s.auxiliary_pages().empty());
  }
  // Freeing takes nothing from the heap either: not on this thread, and not on the tracer's
  // thread where a clone or held threads are released.
  bool releases = s.va_clone_pid().has_value() || options.hold;
  g_allocations_in_release = -1;
  long before = testing::heap_watched_count();
  testing::heap_watch(true);
  c.snapshot.free();
  testing::heap_watch(false);
  EXPECT_EQ(testing::heap_watched_count() - before, 0) << "heap allocations freeing the snapshot";
  if (releases) {
    EXPECT_EQ(g_allocations_in_release.load(), 0) << "heap allocations releasing the clone or held threads";
  }
}

TEST(VmAllocations, AuxiliaryPagesCaptureTakesNothingFromTheHeap) {
  expect_no_heap_in_capture({"--threads", "6", "--avx"}, 0);
}

TEST(VmAllocations, CloneCaptureTakesNothingFromTheHeap) {
  // --mappings has MADV_DONTFORK and MADV_WIPEONFORK regions: the pause copies them too.
  expect_no_heap_in_capture({"--threads", "6", "--avx", "--mappings"}, capture::kVaClone);
}

TEST(VmAllocations, HoldAndLeftRunningThreadsTakeNothingFromTheHeap) {
  CaptureOptions hold;
  hold.hold = true;
  expect_no_heap_in_capture({"--threads", "6", "--avx"}, 0, hold);
  CaptureOptions leave;
  leave.leave_unrestartable_running = true;
  expect_no_heap_in_capture({"--threads", "6", "--avx"}, capture::kVaClone, leave);
}

// The capture flags of the source document's example (seed 001), which include
// PSS_CREATE_USE_VM_ALLOCATIONS, take nothing from the heap with every kind of fd and every
// handle information class, and give a snapshot a full dump can be written from.
TEST(VmAllocations, SeedExampleFlagsCaptureWithoutTheHeapAndDump) {
  auto target = TargetProcess::spawn({"--threads", "6", "--heap-mib", "2", "--fds"});
  constexpr CaptureFlags kSeed =
      capture::kVaClone | capture::kHandles | capture::kHandleNameInformation |
      capture::kHandleBasicInformation | capture::kHandleTypeSpecificInformation |
      capture::kHandleTrace | capture::kThreads | capture::kThreadContext |
      capture::kThreadContextExtended | capture::kCreateBreakaway | capture::kCreateBreakawayOptional |
      capture::kCreateUseVmAllocations | capture::kCreateReleaseSection;
  Counted c = capture_counted(target->pid(), kSeed);
  EXPECT_EQ(c.capture_allocations, 0) << "heap allocations in the capture";
  EXPECT_EQ(c.caller_allocations, 0) << "heap allocations on the thread that called Snapshot::capture";
  const Snapshot& s = c.snapshot;
  EXPECT_EQ(s.memory_mode(), MemoryMode::clone);
  EXPECT_GE(s.handles().size(), 15u) << "one fd of every kind";
  for (const HandleEntry& h : s.handles()) {
    EXPECT_FALSE(h.name.get_allocator().resource()->is_equal(*std::pmr::new_delete_resource())) << h.fd;
  }
  std::string path = testing::temp_dump_path("vm_allocations_seed");
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithHandleData;
  write_minidump(s, path, options);
  auto d = testing::read_dump(path);
  EXPECT_EQ(d.threads().size(), s.threads().size());
  EXPECT_GE(d.handles().size(), 3u);
  uint64_t heap = testing::parse_address(target->report()["heap"]["addr"]);
  std::vector<uint8_t> word(8);
  ASSERT_EQ(d.read_memory(heap, word), 8u);
  uint64_t value;
  std::memcpy(&value, word.data(), 8);
  EXPECT_EQ(value, testing::expected_heap_word(0));
  std::remove(path.c_str());
}

// With the tracer as a process of its own (the usual case), the caller's side of the capture,
// which starts the tracer and reads back what the pause saw, takes nothing from the heap either;
// the pause runs in the tracer process, whose heap is its own.
TEST(VmAllocations, WithATracerProcessTheCallerTakesNothingFromTheHeap) {
  auto target = TargetProcess::spawn({"--threads", "6", "--avx", "--mappings"});
  for (CaptureFlags memory : {capture::kNone, capture::kVaClone}) {
    Counted c = capture_counted(target->pid(), kRich | memory | capture::kCreateUseVmAllocations, {}, false);
    EXPECT_EQ(c.pauses, 0) << "the pause ran in this process";
    EXPECT_EQ(c.capture_allocations, 0) << "heap allocations in the capture";
    EXPECT_EQ(c.caller_allocations, 0) << "heap allocations on the thread that called Snapshot::capture";
    ASSERT_GE(c.snapshot.threads().size(), 7u);
    for (const ThreadEntry& t : c.snapshot.threads()) EXPECT_FALSE(on_heap(t.xsave)) << t.tid;
    for (const AuxiliaryPage& page : c.snapshot.auxiliary_pages()) EXPECT_FALSE(on_heap(page.bytes));
    long before = testing::heap_watched_count();
    testing::heap_watch(true);
    c.snapshot.free();
    testing::heap_watch(false);
    EXPECT_EQ(testing::heap_watched_count() - before, 0) << "heap allocations freeing the snapshot";
  }
}

}  // namespace
}  // namespace snapdump
