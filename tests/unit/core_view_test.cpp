// view::CoreView on cores made here: a process written out by hand (a view of the test's own),
// put through snapdump's real core writer and read back field by field; then that core cut at
// every length and damaged byte by byte, which must never crash the reader (the sanitized tree
// runs this) and must say what it skipped; and files that are not x86-64 ELF cores at all.
#include <elf.h>
#include <signal.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "unit/dump_bytes.h"
#include "snapdump/error.h"
#include "view/core_view.h"
#include "writer/core/core_writer.h"

namespace snapdump::view {
namespace {

constexpr uint64_t kExe = 0x400000, kHeap = 0x600000, kVdso = 0x7fff0000;
constexpr pid_t kPid = 4242, kOther = 4243;

// An ELF image's first page as a linker lays it out: the header, two program headers (a PT_LOAD
// from the start, a PT_NOTE) and the build-id note they point at.
std::vector<uint8_t> elf_page(uint64_t vaddr, uint8_t id_seed) {
  std::vector<uint8_t> page(4096, 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_phoff = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 2;
  std::memcpy(page.data(), &eh, sizeof eh);
  Elf64_Phdr load{PT_LOAD, PF_R | PF_X, 0, vaddr, vaddr, 0x1000, 0x1000, 0x1000};
  Elf64_Phdr note{PT_NOTE, PF_R, 0x100, vaddr + 0x100, vaddr + 0x100, 36, 36, 4};
  std::memcpy(page.data() + sizeof eh, &load, sizeof load);
  std::memcpy(page.data() + sizeof eh + sizeof load, &note, sizeof note);
  Elf64_Nhdr nh{4, 20, NT_GNU_BUILD_ID};
  std::memcpy(page.data() + 0x100, &nh, sizeof nh);
  std::memcpy(page.data() + 0x10c, "GNU", 4);
  for (int i = 0; i < 20; ++i) page[0x110 + i] = static_cast<uint8_t>(id_seed + i);
  return page;
}

std::vector<uint8_t> id_of(uint8_t seed) {
  std::vector<uint8_t> id(20);
  for (int i = 0; i < 20; ++i) id[i] = static_cast<uint8_t>(seed + i);
  return id;
}

class HandProcess final : public ProcessView {
 public:
  ProcessSummary summary;
  std::vector<ThreadState> thread_list;
  std::vector<Mapping> maps;
  std::map<uint64_t, std::vector<uint8_t>> bytes;  // start -> what the process holds there
  std::optional<Signal> stop;

  HandProcess() {
    summary.pid = kPid, summary.parent_pid = 1, summary.uid = 1000, summary.gid = 100;
    summary.process_group = kPid, summary.session = 7, summary.state = 'S', summary.nice = -5;
    summary.name = "hand";
    summary.command_line = std::string("/usr/bin/hand\0-x\0two words\0", 27);
    for (uint64_t pair : {uint64_t{AT_PHDR}, kExe + 64, uint64_t{AT_SYSINFO_EHDR}, kVdso, uint64_t{AT_NULL}, uint64_t{0}}) {
      summary.auxv.insert(summary.auxv.end(), reinterpret_cast<uint8_t*>(&pair), reinterpret_cast<uint8_t*>(&pair) + 8);
    }
    for (pid_t tid : {kPid, kOther}) {
      ThreadState t;
      t.tid = tid;
      t.regs.rip = kExe + 0x123 + tid;
      t.regs.rsp = kHeap + 0x1000 - 64;
      t.regs.rax = 0x1111 * tid;
      user_fpregs_struct fp{};
      fp.cwd = 0x37f;
      fp.mxcsr = 0x1f80 + static_cast<uint32_t>(tid == kOther);
      t.fpregs = fp;
      t.xsave.assign(832, static_cast<uint8_t>(tid));
      t.pending_signals = 1u << (SIGUSR1 - 1);
      t.blocked_signals = tid == kOther ? 0xf0 : 0;
      t.user_time_ns = 3'000'000'000 + 5'000;
      t.kernel_time_ns = 1'000;
      thread_list.push_back(std::move(t));
    }
    add(kExe, 0x1000, PROT_READ | PROT_EXEC, "/usr/bin/hand", 0, false) ;
    add(kExe + 0x1000, 0x1000, PROT_READ | PROT_WRITE, "/usr/bin/hand", 0x1000, true);
    add(kHeap, 0x2000, PROT_READ | PROT_WRITE, "[heap]", 0, true);
    add(kVdso, 0x1000, PROT_READ | PROT_EXEC, "[vdso]", 0, false);
    bytes[kExe] = elf_page(kExe, 0x10);
    bytes[kExe + 0x1000] = std::vector<uint8_t>(0x1000, 0xd0);
    std::vector<uint8_t> heap(0x2000);
    for (size_t i = 0; i < heap.size(); ++i) heap[i] = static_cast<uint8_t>(i * 7);
    bytes[kHeap] = heap;
    bytes[kVdso] = elf_page(0, 0x80);  // a shared object's: its first PT_LOAD at 0
    stop = Signal{kOther, SIGSEGV, SEGV_MAPERR, 0, 0xdead0};
  }

  const ProcessSummary& process() const override { return summary; }
  std::span<const ThreadState> threads() const override { return thread_list; }
  std::span<const Mapping> mappings() const override { return maps; }
  std::span<const Module> modules() const override { return {}; }
  std::optional<Signal> signal() const override { return stop; }
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override {
    auto it = bytes.upper_bound(address);
    if (it == bytes.begin()) return 0;
    --it;
    if (address - it->first >= it->second.size()) return 0;
    size_t n = std::min(out.size(), static_cast<size_t>(it->second.size() - (address - it->first)));
    std::memcpy(out.data(), it->second.data() + (address - it->first), n);
    return n;
  }

 private:
  void add(uint64_t start, uint64_t size, uint32_t prot, std::string path, uint64_t offset, bool written) {
    Mapping m;
    m.start = start, m.end = start + size, m.prot = prot, m.path = std::move(path), m.file_offset = offset;
    m.inode = m.path.front() == '/' ? 99 : 0;
    m.written = written;
    maps.push_back(std::move(m));
  }
};

// The core in memory: the writer's file sink without the file.
class VectorSink final : public writer::Sink {
 public:
  explicit VectorSink(std::vector<uint8_t>& bytes) : bytes_(bytes) {}
  void commit() override {}

 private:
  void do_write(uint64_t offset, std::span<const uint8_t> data) override {
    if (bytes_.size() < offset + data.size()) bytes_.resize(offset + data.size());
    std::memcpy(bytes_.data() + offset, data.data(), data.size());
  }
  std::vector<uint8_t>& bytes_;
};

std::vector<uint8_t> write_hand_core(const HandProcess& process) {
  std::vector<uint8_t> bytes;
  writer::core::CoreSink sink;
  sink.open = [&] { return std::unique_ptr<writer::Sink>(std::make_unique<VectorSink>(bytes)); };
  writer::Steering steering(nullptr);
  writer::core::write_core(process, {}, steering, sink);
  return bytes;
}

const std::vector<uint8_t>& hand_core() {
  static const std::vector<uint8_t> core = [] {
    std::vector<uint8_t> bytes = write_hand_core(HandProcess());
    reader::seed("core_hand", bytes);  // core_fuzz's seed (tests/fuzz), as core_hand.dmp
    return bytes;
  }();
  return core;
}

// Every accessor and every byte of every mapping: what a damaged core must survive.
size_t touch_everything(const CoreView& core) {
  size_t n = core.process().name.size() + core.process().command_line.size() + core.gaps().size();
  for (const ThreadState& t : core.threads()) n += t.xsave.size();
  for (const Module& m : core.modules()) n += m.build_id.size() + m.path.size();
  std::vector<uint8_t> buffer(0x3000);
  for (const Mapping& m : core.mappings()) {
    n += core.read_memory(m.start, std::span(buffer).first(std::min<uint64_t>(buffer.size(), m.end - m.start)));
    auto held = core.held(m.start, m.end);
    for (const auto& [lo, hi] : *held) n += hi - lo;
  }
  return n;
}

TEST(CoreView, WhatTheWriterPutsInACoreReadsBack) {
  HandProcess process;
  CoreView core = CoreView::from_bytes(hand_core(), "hand.core");
  EXPECT_EQ(core.problems(), std::vector<std::string>{});

  const ProcessSummary& p = core.process();
  EXPECT_EQ(p.pid, kPid);
  EXPECT_EQ(p.parent_pid, 1);
  EXPECT_EQ(p.uid, 1000u);
  EXPECT_EQ(p.gid, 100u);
  EXPECT_EQ(p.process_group, kPid);
  EXPECT_EQ(p.session, 7);
  EXPECT_EQ(p.state, 'S');
  EXPECT_EQ(p.nice, -5);
  EXPECT_EQ(p.name, "hand");
  // psargs keeps spaces only: "two words" comes back as two arguments (gaps() says so).
  EXPECT_EQ(p.command_line, std::string("/usr/bin/hand\0-x\0two\0words\0", 27));
  EXPECT_EQ(p.auxv, process.summary.auxv);
  EXPECT_EQ(p.image_path, "/usr/bin/hand");

  // The signalled thread first, as the kernel writes it; each with its own registers.
  ASSERT_EQ(core.threads().size(), 2u);
  EXPECT_EQ(core.threads()[0].tid, kOther);
  EXPECT_EQ(core.threads()[1].tid, kPid);
  for (const ThreadState& t : core.threads()) {
    const ThreadState& expected = process.thread_list[t.tid == kPid ? 0 : 1];
    EXPECT_EQ(std::memcmp(&t.regs, &expected.regs, sizeof t.regs), 0) << t.tid;
    ASSERT_TRUE(t.fpregs.has_value());
    EXPECT_EQ(std::memcmp(&*t.fpregs, &*expected.fpregs, sizeof *t.fpregs), 0) << t.tid;
    EXPECT_EQ(t.xsave, expected.xsave);
    EXPECT_EQ(t.pending_signals, expected.pending_signals);
    EXPECT_EQ(t.blocked_signals, expected.blocked_signals);
    EXPECT_EQ(t.user_time_ns, expected.user_time_ns);
    EXPECT_EQ(t.kernel_time_ns, 1'000u);
    EXPECT_EQ(t.name, t.tid == kPid ? "hand" : "");
  }
  ASSERT_TRUE(core.signal().has_value());
  EXPECT_EQ(core.signal()->thread, kOther);
  EXPECT_EQ(core.signal()->signo, SIGSEGV);
  EXPECT_EQ(core.signal()->code, SEGV_MAPERR);
  EXPECT_EQ(core.signal()->address, 0xdead0u);

  // Every mapping with its file, offset and protection; the vDSO named from AT_SYSINFO_EHDR.
  ASSERT_EQ(core.mappings().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    const Mapping& got = core.mappings()[i];
    const Mapping& want = process.maps[i];
    EXPECT_EQ(got.start, want.start) << i;
    EXPECT_EQ(got.end, want.end) << i;
    EXPECT_EQ(got.prot, want.prot) << i;
    EXPECT_EQ(got.path, want.path == "[heap]" ? "" : want.path) << i;
    EXPECT_EQ(got.file_offset, want.file_offset) << i;
  }

  // The heap's bytes; the executable's first page (its ELF header), but not the rest of a file
  // mapping the core leaves to the file.
  std::vector<uint8_t> heap(0x2000);
  EXPECT_EQ(core.read_memory(kHeap, heap), heap.size());
  EXPECT_EQ(heap, process.bytes[kHeap]);
  std::vector<uint8_t> exe(0x2000);
  EXPECT_EQ(core.read_memory(kExe, exe), 0x2000u);  // the data mapping was written to: it is dumped
  EXPECT_EQ(core.read_memory(kExe - 1, exe), 0u);
  EXPECT_EQ(*core.held(kExe, kExe + 0x2000), (std::vector<std::pair<uint64_t, uint64_t>>{{kExe, kExe + 0x2000}}));

  ASSERT_EQ(core.modules().size(), 2u);
  EXPECT_EQ(core.modules()[0].base, kExe);
  EXPECT_EQ(core.modules()[0].size, 0x2000u);
  EXPECT_EQ(core.modules()[0].path, "/usr/bin/hand");
  EXPECT_EQ(core.modules()[0].build_id, id_of(0x10));
  EXPECT_EQ(core.modules()[1].base, kVdso);
  EXPECT_EQ(core.modules()[1].path, "[vdso]");
  EXPECT_EQ(core.modules()[1].build_id, id_of(0x80));

  std::string gaps;
  for (const std::string& g : core.gaps()) gaps += g + "\n";
  EXPECT_NE(gaps.find("psargs"), std::string::npos) << gaps;
  EXPECT_NE(gaps.find("no thread names"), std::string::npos) << gaps;
  EXPECT_NE(gaps.find("MADV_DONTDUMP"), std::string::npos) << gaps;
}

TEST(CoreView, BytesPastAMappingsFileSizeAreNotHeld) {
  HandProcess process;
  process.maps[1].written = false;  // the data mapping: only its file's first page would be dumped, and it has none
  CoreView core = CoreView::from_bytes(write_hand_core(process), "hand.core");
  std::vector<uint8_t> exe(0x2000);
  EXPECT_EQ(core.read_memory(kExe, exe), 0x1000u);
  EXPECT_EQ(core.read_memory(kExe + 0x1000, exe), 0u);
  EXPECT_EQ(*core.held(kExe, kExe + 0x2000), (std::vector<std::pair<uint64_t, uint64_t>>{{kExe, kExe + 0x1000}}));
  bool said = false;
  for (const std::string& g : core.gaps()) said = said || g.find("4096 bytes of 1 mappings are not in the core") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(core.gaps());
}

// Cut at every length: the header alone is refused, anything with the program headers opens and
// says it is truncated, and memory reads stop where the file does.
TEST(CoreView, ACoreCutAtAnyLengthReadsWhatItHoldsAndSaysItIsTruncated) {
  const std::vector<uint8_t>& whole = hand_core();
  size_t opened = 0;
  // Every length through the headers and notes, then every 61st through the memory.
  for (size_t length = 0; length < whole.size(); length += length < 8192 ? 1 : 61) {
    std::vector<uint8_t> cut(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(length));
    try {
      CoreView core = CoreView::from_bytes(cut, "cut.core");
      ++opened;
      ASSERT_FALSE(core.problems().empty()) << length;
      EXPECT_EQ(core.problems().front().rfind("truncated:", 0), 0u) << length << ": " << core.problems().front();
      touch_everything(core);
      // Whatever it reads is the process's bytes.
      std::vector<uint8_t> heap(0x2000);
      size_t n = core.read_memory(kHeap, heap);
      EXPECT_TRUE(std::equal(heap.begin(), heap.begin() + static_cast<ptrdiff_t>(n), HandProcess().bytes[kHeap].begin())) << length;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::corrupt_input) << length;
      EXPECT_LT(length, sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr)) << length << ": " << e.what();
    }
  }
  EXPECT_GT(opened, 8000u);
}

// Every byte of the headers and notes flipped, and some set to 0xff: either a clear refusal or a
// view whose every part can be read.
TEST(CoreView, DamagedHeadersAndNotesNeverCrashTheReader) {
  const std::vector<uint8_t>& whole = hand_core();
  Elf64_Ehdr eh;
  std::memcpy(&eh, whole.data(), sizeof eh);
  Elf64_Phdr note;
  std::memcpy(&note, whole.data() + eh.e_phoff, sizeof note);
  ASSERT_EQ(note.p_type, static_cast<uint32_t>(PT_NOTE));
  size_t end = note.p_offset + note.p_filesz, refused = 0;
  for (size_t at = 0; at < end; ++at) {
    for (uint8_t value : {static_cast<uint8_t>(whole[at] ^ 0xff), uint8_t{0xff}, uint8_t{0x7f}}) {
      std::vector<uint8_t> bad = whole;
      bad[at] = value;
      try {
        touch_everything(CoreView::from_bytes(std::move(bad), "bad.core"));
      } catch (const Error& e) {
        EXPECT_EQ(e.code(), Errc::corrupt_input) << at;
        ++refused;
      }
    }
  }
  EXPECT_LT(refused, 3 * 64u);  // only the ELF header's own fields refuse the file
}

TEST(CoreView, DamageIsNamedInProblems) {
  std::vector<uint8_t> bad = hand_core();
  Elf64_Ehdr eh;
  std::memcpy(&eh, bad.data(), sizeof eh);
  Elf64_Phdr note;
  std::memcpy(&note, bad.data() + eh.e_phoff, sizeof note);
  // The first note (an NT_PRSTATUS) claims a payload far past its PT_NOTE.
  uint32_t huge = 0x7fffffff;
  std::memcpy(bad.data() + note.p_offset + 4, &huge, 4);
  CoreView core = CoreView::from_bytes(bad, "bad.core");
  ASSERT_EQ(core.problems().size(), 2u) << ::testing::PrintToString(core.problems());
  EXPECT_NE(core.problems()[0].find("runs past its PT_NOTE's end"), std::string::npos) << core.problems()[0];
  EXPECT_EQ(core.problems()[1], "no NT_PRSTATUS: the core lists no thread");
  EXPECT_EQ(core.threads().size(), 0u);
  // The memory is still there.
  std::vector<uint8_t> heap(16);
  EXPECT_EQ(core.read_memory(kHeap, heap), 16u);
}

TEST(CoreView, AnAbsurdNtFileCountIsCapped) {
  std::vector<uint8_t> bad = hand_core();
  // Find the NT_FILE note's count and make it absurd.
  const uint8_t type[4] = {0x45, 0x4c, 0x49, 0x46};  // 0x46494c45 little-endian
  auto at = std::search(bad.begin(), bad.end(), std::begin(type), std::end(type));
  ASSERT_NE(at, bad.end());
  size_t desc = static_cast<size_t>(at - bad.begin()) + 4 + 8;  // past n_type, then "CORE\0" padded
  uint64_t count = UINT64_MAX / 2;
  std::memcpy(bad.data() + desc, &count, 8);
  CoreView core = CoreView::from_bytes(bad, "bad.core");
  bool said = false;
  for (const std::string& p : core.problems()) said = said || p.find("files declared, 3 fit in the note") != std::string::npos;
  EXPECT_TRUE(said) << ::testing::PrintToString(core.problems());
  touch_everything(core);
}

TEST(CoreView, WhatIsNotAnX8664ElfCoreIsRefusedByName) {
  auto refusal = [](std::vector<uint8_t> bytes) -> std::string {
    try {
      CoreView::from_bytes(std::move(bytes), "f");
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::corrupt_input);
      return e.what();
    }
    return "(opened)";
  };
  EXPECT_EQ(refusal({}), "f is not an ELF core: no ELF magic at its start");
  EXPECT_EQ(refusal({'M', 'D', 'M', 'P', 0x93, 0xa7}), "f is not an ELF core: no ELF magic at its start");
  std::vector<uint8_t> core = hand_core();
  auto with = [&](size_t offset, std::vector<uint8_t> value) {
    std::vector<uint8_t> b = core;
    std::copy(value.begin(), value.end(), b.begin() + static_cast<ptrdiff_t>(offset));
    return b;
  };
  EXPECT_EQ(refusal(with(EI_CLASS, {ELFCLASS32})), "f is not an ELF core: ELF class 1, not ELFCLASS64");
  EXPECT_EQ(refusal(with(EI_DATA, {ELFDATA2MSB})), "f is not an ELF core: ELF data encoding 2, not little-endian");
  EXPECT_EQ(refusal(with(offsetof(Elf64_Ehdr, e_type), {ET_DYN, 0})),
            "f is not an ELF core: a shared object or PIE executable (ET_DYN) (e_type 3)");
  EXPECT_EQ(refusal(with(offsetof(Elf64_Ehdr, e_machine), {EM_AARCH64, 0})),
            "f is an ELF core of machine 183, not x86-64 (EM_X86_64): only x86-64 cores are read");
  EXPECT_EQ(refusal(std::vector<uint8_t>(core.begin(), core.begin() + 40)), "f is not an ELF core: 40 bytes, too small for the 64-byte ELF header");
  EXPECT_EQ(refusal(with(offsetof(Elf64_Ehdr, e_phnum), {0, 0})), "f: an ELF core without program headers");
}

}  // namespace
}  // namespace snapdump::view
