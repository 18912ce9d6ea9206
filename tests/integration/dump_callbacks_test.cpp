// Every steering callback of a dump (dump_callbacks.h), each asserted by its effect in the file
// it produced, against real spawned targets.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::parse_address;
using snapdump::testing::TargetProcess;

std::string temp_dump(const char* name) { return snapdump::testing::temp_dump_path(std::string("cb-") + name); }

uint32_t tid_of(const TargetProcess& target, const std::string& kind) {
  for (const auto& t : target.report()["threads"]) {
    if (t["kind"] == kind) return t["tid"].get<uint32_t>();
  }
  throw std::runtime_error("no " + kind + " thread");
}

const reader::ThreadView* find_thread(const std::vector<reader::ThreadView>& threads, uint32_t tid) {
  auto it = std::find_if(threads.begin(), threads.end(), [&](const auto& t) { return t.tid == tid; });
  return it == threads.end() ? nullptr : &*it;
}

std::string fmt_hex(uint64_t value) {
  char text[32];
  std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(value));
  return text;
}

bool dump_holds(const reader::Minidump& d, uint64_t address, const std::string& text) {
  std::vector<uint8_t> got(text.size());
  return d.read_memory(address, got) == got.size() && std::memcmp(got.data(), text.data(), text.size()) == 0;
}

// Records the order of every callback.
struct Recorder : DumpCallbacks {
  std::vector<std::string> calls;
  int memory_calls = 0, remove_calls = 0;
  bool io_start() override { return note("io_start"), false; }
  uint32_t secondary_flags(uint32_t f) override { return note("secondary_flags"), f; }
  bool vm_start() override { return note("vm_start"), false; }
  bool include_thread(uint32_t, ThreadWriteFlags&) override { return note("include_thread"), true; }
  bool include_module(uint64_t, ModuleWriteFlags&) override { return note("include_module"), true; }
  bool thread(const ThreadCallbackInfo&, ThreadWriteFlags&) override { return note("thread"), true; }
  bool module(const ModuleCallbackInfo&, ModuleWriteFlags&) override { return note("module"), true; }
  std::optional<MemoryRange> memory() override {
    note("memory");
    ++memory_calls;
    return MemoryRange{0, 0};  // a size of 0 ends the MemoryCallbacks as nullopt does
  }
  std::optional<MemoryRange> remove_memory() override { return note("remove_memory"), std::nullopt; }
  CancelAnswer cancel() override { return note("cancel"), CancelAnswer{true, false}; }
  bool write_kernel_minidump() override { return note("write_kernel_minidump"), false; }
  void note(const char* what) {
    if (calls.empty() || calls.back() != what) calls.push_back(what);
  }
};

TEST(DumpCallbacks, ArriveInTheDocumentedOrder) {
  auto target = TargetProcess::spawn({"--threads", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  Recorder rec;
  DumpOptions options;
  options.callbacks = &rec;
  std::string path = temp_dump("order");
  write_minidump(snap, path, options);
  // Runs of one callback are collapsed; cancel checks come between the stages.
  std::vector<std::string> expected = {"io_start",       "secondary_flags", "vm_start", "include_thread",
                                       "include_module", "cancel",          "thread",   "module",
                                       "cancel",         "memory",          "remove_memory", "cancel"};
  ASSERT_GE(rec.calls.size(), expected.size());
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), rec.calls.begin()))
      << ::testing::PrintToString(rec.calls);
  EXPECT_EQ(rec.calls.back(), "write_kernel_minidump");
  // memory() answered a size of 0 once: it is not called again.
  EXPECT_EQ(rec.memory_calls, 1);
  std::filesystem::remove(path);
}

struct ExcludeThread : DumpCallbacks {
  uint32_t drop, no_stack, no_context;
  bool include_thread(uint32_t tid, ThreadWriteFlags& flags) override {
    if (tid == no_stack) flags &= ~thread_write::kStack;
    return tid != drop;
  }
  bool thread(const ThreadCallbackInfo& info, ThreadWriteFlags& flags) override {
    if (static_cast<uint32_t>(info.thread.tid) == no_context) flags &= ~thread_write::kContext;
    return true;
  }
};

TEST(DumpCallbacks, IncludeThreadAndThreadExcludeOrNarrowThreads) {
  auto target = TargetProcess::spawn({"--threads", "3"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  ExcludeThread cb;
  cb.drop = tid_of(*target, "nanosleep");
  cb.no_stack = tid_of(*target, "pipe_read");
  cb.no_context = tid_of(*target, "futex_wait");
  DumpOptions options;
  options.callbacks = &cb;
  std::string path = temp_dump("threads");
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  auto threads = d.threads();
  EXPECT_EQ(threads.size(), snap.threads().size() - 1);
  EXPECT_EQ(find_thread(threads, cb.drop), nullptr);
  const auto* no_stack = find_thread(threads, cb.no_stack);
  ASSERT_NE(no_stack, nullptr);
  EXPECT_TRUE(no_stack->stack.empty());
  EXPECT_TRUE(no_stack->context.has_value());
  const auto* no_context = find_thread(threads, cb.no_context);
  ASSERT_NE(no_context, nullptr);
  EXPECT_FALSE(no_context->context.has_value());
  EXPECT_FALSE(no_context->stack.empty());
  std::filesystem::remove(path);
}

struct ThreadBounds : DumpCallbacks {
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> bounds;
  bool thread(const ThreadCallbackInfo& info, ThreadWriteFlags&) override {
    bounds[static_cast<uint32_t>(info.thread.tid)] = {info.stack_base, info.stack_end};
    return true;
  }
};

TEST(DumpCallbacks, ThreadCallbackSeesTheStackThatIsWritten) {
  auto target = TargetProcess::spawn({"--threads", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  ThreadBounds cb;
  DumpOptions options;
  options.callbacks = &cb;
  std::string path = temp_dump("bounds");
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  ASSERT_EQ(cb.bounds.size(), d.threads().size());
  for (const auto& t : d.threads()) {
    ASSERT_TRUE(cb.bounds.count(t.tid)) << t.tid;
    EXPECT_EQ(cb.bounds[t.tid].first, t.stack_start) << t.tid;
    EXPECT_EQ(cb.bounds[t.tid].second, t.stack_start + t.stack.size()) << t.tid;
  }
  std::filesystem::remove(path);
}

struct ModuleSteering : DumpCallbacks {
  uint64_t drop_base = 0;
  std::string strip_cv_path;
  bool include_module(uint64_t base, ModuleWriteFlags&) override { return base != drop_base; }
  bool module(const ModuleCallbackInfo& info, ModuleWriteFlags& flags) override {
    if (info.path == strip_cv_path) flags &= ~module_write::kCvRecord;
    return true;
  }
};

TEST(DumpCallbacks, IncludeModuleAndModuleExcludeOrNarrowModules) {
  auto target = TargetProcess::spawn({"--libs", "--threads", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string plugin = target->report()["libs"]["plugin"]["path"];
  ModuleSteering cb;
  cb.strip_cv_path = target->report()["exe"];
  for (const Region& r : snap.memory_map()) {
    if (r.elf && std::string_view(r.path) == plugin) cb.drop_base = r.elf->load_address;
  }
  ASSERT_NE(cb.drop_base, 0u);
  DumpOptions options;
  options.callbacks = &cb;
  std::string path = temp_dump("modules");
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  bool saw_exe = false;
  for (const auto& m : d.modules()) {
    EXPECT_NE(m.base, cb.drop_base) << m.name;
    if (m.name == cb.strip_cv_path) {
      saw_exe = true;
      EXPECT_EQ(m.cv_signature, 0u);
      EXPECT_TRUE(m.build_id.empty());
    } else if (m.name.rfind("/", 0) == 0 && m.name.find("linux-vdso") == std::string::npos) {
      EXPECT_NE(m.cv_signature, 0u) << m.name;
    }
  }
  EXPECT_TRUE(saw_exe);
  std::filesystem::remove(path);
}

struct AddAndRemove : DumpCallbacks {
  std::vector<MemoryRange> add, remove;
  std::optional<MemoryRange> memory() override {
    if (add.empty()) return std::nullopt;
    MemoryRange r = add.back();
    add.pop_back();
    return r;
  }
  std::optional<MemoryRange> remove_memory() override {
    if (remove.empty()) return std::nullopt;
    MemoryRange r = remove.back();
    remove.pop_back();
    return r;
  }
};

TEST(DumpCallbacks, MemoryAddsAndRemoveMemoryRemovesRanges) {
  auto target = TargetProcess::spawn({"--threads", "2", "--heap-mib", "1"});
  const auto& markers = target->report()["markers"];
  uint64_t secret = parse_address(markers["secret"]["addr"]);
  std::string text = markers["secret"]["text"];
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  // Without callbacks neither range is in a normal dump.
  std::string plain = temp_dump("plain");
  write_minidump(snap, plain, {});
  auto without = testing::read_dump(plain);
  EXPECT_FALSE(dump_holds(without, secret, text));

  AddAndRemove cb;
  cb.add = {{secret, text.size()}, {heap, 8192}};
  cb.remove = {{heap + 4096, 4096}};
  DumpOptions options;
  options.callbacks = &cb;
  std::string path = temp_dump("memory");
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  EXPECT_TRUE(dump_holds(d, secret, text));
  std::vector<uint8_t> page(4096);
  EXPECT_EQ(d.read_memory(heap, page), 4096u);  // the first page stays, the second is removed
  uint64_t word;
  std::memcpy(&word, page.data() + 8, 8);
  EXPECT_EQ(word, snapdump::testing::expected_heap_word(8));
  EXPECT_EQ(d.read_memory(heap + 4096, page), 0u);
  std::filesystem::remove(plain);
  std::filesystem::remove(path);
}

struct CancelAfter : DumpCallbacks {
  int calls = 0, cancel_at = 0;
  bool keep_asking = true;
  CancelAnswer cancel() override {
    ++calls;
    return {keep_asking, calls == cancel_at};
  }
};

TEST(DumpCallbacks, CancelFailsTheDumpAndLeavesNoFile) {
  auto target = TargetProcess::spawn({"--threads", "1", "--heap-mib", "4"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  for (int at : {1, 2, 3, 4}) {
    CancelAfter cb;
    cb.cancel_at = at;
    DumpOptions options;
    options.type = dump::kWithFullMemory;
    options.callbacks = &cb;
    std::string path = temp_dump("cancel");
    try {
      write_minidump(snap, path, options);
      ADD_FAILURE() << "a cancel at call " << at << " did not fail the dump";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::cancelled) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(path)) << at;
    EXPECT_EQ(cb.calls, at);
  }
  // CheckCancel = FALSE: asked once, never again.
  CancelAfter once;
  once.keep_asking = false;
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  options.callbacks = &once;
  std::string path = temp_dump("check-cancel");
  write_minidump(snap, path, options);
  EXPECT_EQ(once.calls, 1);
  std::filesystem::remove(path);
}

struct Io : DumpCallbacks {
  std::vector<uint8_t> bytes;
  int writes = 0, finishes = 0, fail_write_at = -1;
  bool finish_ok = true;
  bool io_start() override { return true; }
  bool io_write_all(uint64_t offset, std::span<const uint8_t> data) override {
    if (writes++ == fail_write_at) return false;
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size());
    std::memcpy(bytes.data() + offset, data.data(), data.size());
    return true;
  }
  bool io_finish() override { return ++finishes, finish_ok; }
};

TEST(DumpCallbacks, IoCallbacksCarryTheWholeDumpAndNoFileIsWritten) {
  auto target = TargetProcess::spawn({"--threads", "2", "--heap-mib", "2"});
  uint64_t heap = parse_address(target->report()["heap"]["addr"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  Io io;
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  options.callbacks = &io;
  std::string path = temp_dump("io");
  DumpResult result = write_minidump(snap, path, options);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(io.finishes, 1);
  EXPECT_EQ(result.bytes, io.bytes.size());
  auto d = reader::Minidump::from_bytes(io.bytes);
  EXPECT_TRUE(d.problems().empty()) << ::testing::PrintToString(d.problems());
  EXPECT_EQ(d.threads().size(), snap.threads().size());
  uint64_t word = 0;
  ASSERT_EQ(d.read_memory(heap + 800, std::span<uint8_t>(reinterpret_cast<uint8_t*>(&word), 8)), 8u);
  EXPECT_EQ(word, snapdump::testing::expected_heap_word(800));

  // A failing write, or a finish that reports failure, fails the dump.
  Io failing;
  failing.fail_write_at = 1;
  options.callbacks = &failing;
  EXPECT_THROW(write_minidump(snap, -1, options), Error);
  EXPECT_EQ(failing.finishes, 0);
  Io unfinished;
  unfinished.finish_ok = false;
  options.callbacks = &unfinished;
  try {
    write_minidump(snap, -1, options);
    ADD_FAILURE() << "IoFinish failure was ignored";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io_error);
    EXPECT_NE(std::string(e.what()).find("IoFinish"), std::string::npos) << e.what();
  }
}

struct ReadFailures : DumpCallbacks {
  std::vector<std::pair<uint64_t, uint64_t>> failures;
  bool answer = true;
  bool read_memory_failure(uint64_t address, uint64_t bytes, int) override {
    failures.emplace_back(address, bytes);
    return answer;
  }
};

TEST(DumpCallbacks, ReadMemoryFailureIgnoresOrFailsAndIgnoreInaccessibleSkipsIt) {
  auto target = TargetProcess::spawn({"--threads", "1", "--truncated-mapping"});
  const auto& m = target->report()["mappings"][0];
  uint64_t start = parse_address(m["start"]);
  uint64_t readable = m["readable"].get<uint64_t>();
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  std::string path = temp_dump("readfail");
  // No callback answers: the failure fails the dump, naming the address.
  try {
    write_minidump(snap, path, options);
    ADD_FAILURE() << "an unreadable tail did not fail a full dump";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::memory_unreadable);
    EXPECT_NE(std::string(e.what()).find(fmt_hex(start + readable)), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));

  ReadFailures cb;
  options.callbacks = &cb;
  write_minidump(snap, path, options, {.replace_existing = true});
  ASSERT_EQ(cb.failures.size(), 1u);
  EXPECT_EQ(cb.failures[0].first, start + readable);
  auto d = testing::read_dump(path);
  std::vector<uint8_t> bytes(3 * 4096);
  EXPECT_EQ(d.read_memory(start, bytes), readable);  // the readable page is kept, the tail left out
  EXPECT_EQ(bytes[0], 0x5C);

  ReadFailures refusing;
  refusing.answer = false;
  options.callbacks = &refusing;
  EXPECT_THROW(write_minidump(snap, path, options, {.replace_existing = true}), Error);

  ReadFailures unasked;
  options.callbacks = &unasked;
  options.type = dump::kWithFullMemory | dump::kIgnoreInaccessibleMemory;
  write_minidump(snap, path, options, {.replace_existing = true});
  EXPECT_TRUE(unasked.failures.empty());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
