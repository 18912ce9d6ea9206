// Dumps of real targets read back by our reader: every value the snapshot held is in the file,
// exactly, and the reader finds nothing wrong with it.
#include <string_view>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::TargetProcess;

std::string dump_path(const char* name) {
  return (std::filesystem::temp_directory_path() /
          ("snapdump-rt-" + std::to_string(getpid()) + "-" + name + ".dmp")).string();
}

std::string problems_of(const reader::Minidump& d) {
  std::string all;
  for (const auto& p : d.problems()) all += p + "\n";
  return all;
}

TEST(MinidumpRoundTrip, NormalDumpHoldsTheSnapshotExactly) {
  auto target = TargetProcess::spawn({"--all", "--heap-mib", "2"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kNormal));
  std::string path = dump_path("normal");
  write_minidump(snap, path, {});
  reader::Minidump d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty()) << problems_of(d);

  auto sys = d.system_info();
  ASSERT_TRUE(sys);
  EXPECT_EQ(sys->architecture, format::kArchitectureAmd64);
  EXPECT_EQ(sys->platform_id, format::kPlatformLinux);
  EXPECT_EQ(sys->csd_version.rfind("Linux ", 0), 0u) << sys->csd_version;
  auto misc = d.misc_info();
  ASSERT_TRUE(misc && misc->pid);
  EXPECT_EQ(*misc->pid, static_cast<uint32_t>(target->pid()));
  EXPECT_EQ(misc->size_of_info, 1364u);

  auto threads = d.threads();
  ASSERT_EQ(threads.size(), snap.threads().size());
  for (const ThreadEntry& t : snap.threads()) {
    auto it = std::find_if(threads.begin(), threads.end(), [&](const auto& v) { return v.tid == static_cast<uint32_t>(t.tid); });
    ASSERT_NE(it, threads.end()) << t.tid;
    EXPECT_EQ(it->name, std::string(t.name));
    ASSERT_TRUE(it->context);
    EXPECT_EQ(it->context->context_flags, 0x0010001Fu);
    EXPECT_EQ(it->context->rip, t.regs.rip);
    EXPECT_EQ(it->context->rsp, t.regs.rsp);
    EXPECT_EQ(it->context->rbp, t.regs.rbp);
    EXPECT_EQ(it->context->r15, t.regs.r15);
    EXPECT_EQ(std::memcmp(it->context->flt_save, &t.fpregs, 512), 0);
    // The stack descriptor covers the stack pointer and holds the snapshot's bytes.
    ASSERT_FALSE(it->stack.empty()) << t.name;
    EXPECT_LE(it->stack_start, t.regs.rsp);
    EXPECT_GT(it->stack_start + it->stack.size(), t.regs.rsp);
    std::vector<uint8_t> expected(it->stack.size());
    ASSERT_EQ(snap.read_memory(it->stack_start, expected), expected.size());
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), it->stack.begin())) << t.name;
  }

  auto modules = d.modules();
  size_t elf_regions = 0;
  for (const Region& r : snap.memory_map()) {
    if (!r.elf) continue;
    ++elf_regions;
    auto m = std::find_if(modules.begin(), modules.end(), [&](const auto& m) { return m.base == r.elf->load_address; });
    ASSERT_NE(m, modules.end()) << r.path;
    EXPECT_EQ(m->name, std::string_view(r.path));
    EXPECT_EQ(m->size, r.elf->image_size);
    EXPECT_EQ(m->build_id, std::vector<uint8_t>(r.elf->build_id.begin(), r.elf->build_id.end())) << r.path;
    if (!r.elf->build_id.empty()) {
      EXPECT_EQ(m->cv_signature, format::kCvSignatureElf);
    }
  }
  EXPECT_EQ(modules.size(), elf_regions);

  auto status = d.text_stream(static_cast<uint32_t>(format::StreamType::LinuxProcStatus));
  ASSERT_TRUE(status);
  EXPECT_NE(status->find("Pid:\t" + std::to_string(target->pid())), std::string::npos);
  EXPECT_TRUE(d.text_stream(static_cast<uint32_t>(format::StreamType::LinuxMaps)));
  EXPECT_TRUE(d.text_stream(static_cast<uint32_t>(format::StreamType::LinuxEnviron)));
  EXPECT_FALSE(d.stream(static_cast<uint32_t>(format::StreamType::Memory64List)));
  std::filesystem::remove(path);
}

TEST(MinidumpRoundTrip, FullDumpHoldsEveryReadableByteAsOfTheCapture) {
  auto target = TargetProcess::spawn({"--mappings", "--heap-mib", "4"});
  uint64_t heap = snapdump::testing::parse_address(target->report()["heap"]["addr"]);
  uint64_t size = snapdump::testing::parse_address(target->report()["heap"]["size"]);
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  target->command("overwrite-heap");
  std::string path = dump_path("full");
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo | dump::kWithThreadInfo | dump::kWithoutOptionalData;
  write_minidump(snap, path, options);
  reader::Minidump d = testing::read_dump(path);
  // Stacks are in both lists (Breakpad reads only the MemoryList): the reader notes overlaps
  // between the lists, nothing else.
  for (const auto& p : d.problems()) EXPECT_NE(p.find("overlap"), std::string::npos) << p;
  std::vector<uint8_t> bytes(size);
  ASSERT_EQ(d.read_memory(heap, bytes), size);
  for (uint64_t off = 0; off < size; off += 4096) {
    uint64_t word;
    std::memcpy(&word, &bytes[off], 8);
    ASSERT_EQ(word, snapdump::testing::expected_heap_word(off)) << off;
  }
  // The regions the kernel does not clone hold their bytes, not the clone's zeros.
  for (const auto& m : target->report()["mappings"]) {
    if (!m.contains("fill")) continue;
    uint64_t start = snapdump::testing::parse_address(m["start"]);
    uint8_t byte = 0;
    ASSERT_EQ(d.read_memory(start + 100, {&byte, 1}), 1u) << m["kind"];
    EXPECT_EQ(byte, static_cast<uint8_t>(snapdump::testing::parse_address(m["fill"]))) << m["kind"];
  }
  // Every mapping, split where the dump's ranges begin and end (docs/minidump.md): each mapping
  // begins an entry, and the entries cover the mappings and nothing else.
  std::set<uint64_t> bases;
  uint64_t described = 0, mapped = 0;
  for (const auto& e : d.memory_info()) {
    bases.insert(e.base);
    described += e.size;
  }
  for (const Region& r : snap.memory_map()) {
    EXPECT_EQ(bases.count(r.start), 1u) << std::hex << r.start;
    mapped += r.end - r.start;
  }
  EXPECT_EQ(described, mapped);
  EXPECT_GT(d.memory_info().size(), snap.memory_map().size());
  auto threads = d.threads();
  ASSERT_FALSE(threads.empty());
  for (const auto& t : threads) ASSERT_TRUE(t.info) << t.tid;
  EXPECT_FALSE(d.text_stream(static_cast<uint32_t>(format::StreamType::LinuxEnviron)));
  std::filesystem::remove(path);
}

TEST(MinidumpRoundTrip, HandleDataNamesEveryFd) {
  auto target = TargetProcess::spawn({"--fds", "--heap-mib", "1"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithHandleData));
  std::string path = dump_path("handles");
  DumpOptions options;
  options.type = dump::kWithHandleData;
  write_minidump(snap, path, options);
  reader::Minidump d = testing::read_dump(path);
  EXPECT_TRUE(d.problems().empty()) << problems_of(d);
  auto handles = d.handles();
  ASSERT_EQ(handles.size(), snap.handles().size());
  for (size_t i = 0; i < handles.size(); ++i) {
    EXPECT_EQ(handles[i].handle, static_cast<uint64_t>(snap.handles()[i].fd));
    EXPECT_EQ(std::string_view(handles[i].type_name), snap.handles()[i].type_name);
    EXPECT_EQ(handles[i].object_name, std::string_view(snap.handles()[i].name));
  }
  // Each fd's details ride in its object information, as text a person can read; checked here
  // against what the target says it set up.
  auto details_of = [&](int fd) -> std::string {
    for (const auto& h : handles) {
      if (h.handle != static_cast<uint64_t>(fd)) continue;
      for (const auto& [type, bytes] : h.object_info) {
        if (type == static_cast<uint32_t>(format::HandleObjectInfoType::LinuxFdText)) {
          return std::string(bytes.begin(), bytes.end());
        }
      }
    }
    return "";
  };
  int checked = 0;
  for (const auto& fd : target->report()["fds"]) {
    std::string kind = fd["kind"].get<std::string>();
    std::string text = details_of(fd["fd"].get<int>());
    std::vector<std::string> expected;
    if (kind == "file") expected = {"kind: regular\n", "pos: 1234\n"};
    if (kind == "eventfd") expected = {"kind: eventfd\n", "eventfd-count: 42\n", "semaphore: no\n"};
    if (kind == "pidfd") expected = {"kind: pidfd\n", "pid: " + std::to_string(fd["pid"].get<int>()) + "\n"};
    if (kind == "memfd") {
      expected = {"memfd-name: snapdump-memfd\n", "size: 8192\n",
                  fmt::format("seals: {:#x}\n", fd["seals"].get<unsigned>())};
    }
    if (kind == "tcp_client") {
      expected = {"local: 127.0.0.1:" + std::to_string(fd["local_port"].get<int>()) + "\n",
                  "remote: 127.0.0.1:" + std::to_string(fd["peer_port"].get<int>()) + "\n", "state: ESTABLISHED\n"};
    }
    if (expected.empty()) continue;
    ++checked;
    for (const std::string& line : expected) {
      EXPECT_NE(text.find(line), std::string::npos) << kind << " fd " << fd["fd"] << " lacks '" << line << "':\n" << text;
    }
  }
  EXPECT_EQ(checked, 5);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump

namespace snapdump {
namespace {

// ThreadInfoList's StartAddress: the start routine each thread was created with (glibc keeps it
// in the thread's control block), and the program's entry point for the main thread.
TEST(MinidumpRoundTrip, ThreadInfoHoldsEachThreadsStartRoutine) {
  auto target = TargetProcess::spawn({"--threads", "6"});
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(dump::kWithThreadInfo) | capture::kVaClone);
  std::string path = dump_path("thread_start");
  DumpOptions options;
  options.type = dump::kWithThreadInfo;
  write_minidump(snap, path, options);
  auto d = testing::read_dump(path);
  auto threads = d.threads();
  const auto& report = target->report();
  int checked = 0;
  for (const auto& rt : report["threads"]) {
    auto it = std::find_if(threads.begin(), threads.end(), [&](const auto& t) { return t.tid == rt["tid"].get<uint32_t>(); });
    ASSERT_NE(it, threads.end());
    ASSERT_TRUE(it->info.has_value());
    std::string fn = rt["function"].get<std::string>();
    if (fn == "main") {
      auto modules = d.modules();
      auto exe = std::find_if(modules.begin(), modules.end(), [&](const auto& m) {
        return m.base <= it->info->start_address && it->info->start_address < m.base + m.size;
      });
      ASSERT_NE(exe, modules.end()) << "the main thread starts in no module";
      EXPECT_NE(exe->name.find("snapdump_target"), std::string::npos) << exe->name;
      continue;
    }
    uint64_t expected = snapdump::testing::parse_address(report["functions"][fn]);
    EXPECT_EQ(it->info->start_address, expected) << rt["name"] << " (" << fn << ")";
    ++checked;
  }
  EXPECT_GE(checked, 6);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
