// The memory an ELF core takes from each mapping (writer/core/core_segments.h): the kernel's
// vma_dump_size under each coredump_filter bit, --full, MADV_DONTDUMP, and the callbacks that
// narrow, add and remove ranges. The mappings are written out by hand in a view of the test's
// own: these are the cases a live process rarely shows all at once.
#include <elf.h>
#include <sys/mman.h>

#include <cstring>
#include <map>
#include <optional>

#include <gtest/gtest.h>

#include "writer/core/core_notes.h"
#include "writer/core/core_segments.h"

namespace snapdump::writer::core {
namespace {

constexpr uint64_t kMiB = 1 << 20;

class HandView final : public view::ProcessView {
 public:
  view::ProcessSummary summary;
  std::vector<view::ThreadState> thread_list;
  std::vector<view::Mapping> maps;
  std::map<uint64_t, std::vector<uint8_t>> memory;  // start -> bytes

  const view::ProcessSummary& process() const override { return summary; }
  std::span<const view::ThreadState> threads() const override { return thread_list; }
  std::span<const view::Mapping> mappings() const override { return maps; }
  std::span<const view::Module> modules() const override { return {}; }
  std::optional<view::Signal> signal() const override { return std::nullopt; }
  size_t read_memory(uint64_t address, std::span<uint8_t> out) const override {
    for (const auto& [start, bytes] : memory) {
      if (address >= start && address < start + bytes.size()) {
        size_t n = std::min(out.size(), static_cast<size_t>(start + bytes.size() - address));
        std::memcpy(out.data(), bytes.data() + (address - start), n);
        return n;
      }
    }
    return 0;
  }

  view::Mapping& add(uint64_t start, uint64_t size, uint32_t prot, bool shared, std::string path, uint64_t inode) {
    view::Mapping m;
    m.start = start;
    m.end = start + size;
    m.prot = prot;
    m.shared = shared;
    m.path = std::move(path);
    m.inode = inode;
    m.written = inode == 0;  // a file mapping written to says so below
    maps.push_back(m);
    return maps.back();
  }
  void elf_at(uint64_t start) {
    std::vector<uint8_t> header(64, 0);
    std::memcpy(header.data(), ELFMAG, SELFMAG);
    memory[start] = header;
  }
};

constexpr uint32_t kRW = PROT_READ | PROT_WRITE, kRX = PROT_READ | PROT_EXEC, kR = PROT_READ;

uint64_t size_of(const HandView& v, const view::Mapping& m, uint32_t bits, bool full = false) {
  return kernel_dump_size(v, m, Selection{bits, full});
}

TEST(CoreSegments, EachFilterBitChoosesItsKindOfMapping) {
  HandView v;
  view::Mapping heap = v.add(0x10000, kMiB, kRW, false, "[heap]", 0);
  view::Mapping text = v.add(0x400000, kMiB, kRX, false, "/usr/bin/x", 7);
  view::Mapping text_tail = v.add(0x500000, kMiB, kRX, false, "/usr/bin/x", 7);
  text_tail.file_offset = kMiB;
  view::Mapping data = v.add(0x600000, kMiB, kRW, false, "/usr/bin/x", 7);
  data.written = true;
  view::Mapping clean_data = data;
  clean_data.written = false;
  view::Mapping shm = v.add(0x700000, kMiB, kRW, true, "/dev/zero (deleted)", 9);
  view::Mapping shared_file = v.add(0x800000, kMiB, kRW, true, "/srv/data", 10);
  view::Mapping not_elf = v.add(0x900000, kMiB, kR, false, "/srv/table", 11);
  view::Mapping reservation = v.add(0xa00000, kMiB, PROT_NONE, false, "", 0);
  view::Mapping vdso = v.add(0xb00000, 8192, kRX, false, "[vdso]", 0);
  view::Mapping secret = v.add(0xc00000, kMiB, kRW, false, "", 0);
  secret.dont_dump = true;
  v.elf_at(0x400000);

  // The default, 0x33.
  EXPECT_EQ(size_of(v, heap, filter::kDefault), kMiB);
  EXPECT_EQ(size_of(v, text, filter::kDefault), kPageSize);  // the ELF header page
  EXPECT_EQ(size_of(v, text_tail, filter::kDefault), 0u);    // not at file offset 0
  EXPECT_EQ(size_of(v, data, filter::kDefault), kMiB);       // written: private pages of its own
  EXPECT_EQ(size_of(v, clean_data, filter::kDefault), 0u);
  EXPECT_EQ(size_of(v, shm, filter::kDefault), kMiB);
  EXPECT_EQ(size_of(v, shared_file, filter::kDefault), 0u);
  EXPECT_EQ(size_of(v, not_elf, filter::kDefault), 0u);      // no ELF magic there
  EXPECT_EQ(size_of(v, reservation, filter::kDefault), 0u);
  EXPECT_EQ(size_of(v, vdso, 0), 8192u);                      // always, whatever the filter
  view::Mapping vsyscall = v.add(0xffffffffff600000, 4096, PROT_EXEC, false, "[vsyscall]", 0);
  EXPECT_EQ(size_of(v, vsyscall, filter::kAll), 0u);          // execute-only: nothing to read
  vsyscall.prot = kRX;
  EXPECT_EQ(size_of(v, vsyscall, 0), 4096u);
  EXPECT_EQ(size_of(v, secret, filter::kAll), 0u);

  // Each bit alone.
  EXPECT_EQ(size_of(v, heap, filter::kAnonPrivate), kMiB);
  EXPECT_EQ(size_of(v, heap, filter::kAnonShared), 0u);
  EXPECT_EQ(size_of(v, shm, filter::kAnonShared), kMiB);
  EXPECT_EQ(size_of(v, shm, filter::kMappedShared), 0u);
  EXPECT_EQ(size_of(v, shared_file, filter::kMappedShared), kMiB);
  EXPECT_EQ(size_of(v, text, filter::kMappedPrivate), kMiB);
  EXPECT_EQ(size_of(v, clean_data, filter::kMappedPrivate), kMiB);
  EXPECT_EQ(size_of(v, text, filter::kElfHeaders), kPageSize);
  EXPECT_EQ(size_of(v, text, 0), 0u);

  // --full: every readable mapping whole, MADV_DONTDUMP still out.
  EXPECT_EQ(size_of(v, text_tail, 0, true), kMiB);
  EXPECT_EQ(size_of(v, shared_file, 0, true), kMiB);
  EXPECT_EQ(size_of(v, reservation, filter::kAll, true), 0u);
  EXPECT_EQ(size_of(v, secret, filter::kAll, true), 0u);
}

class Narrowing : public DumpCallbacks {
 public:
  std::vector<MemoryRange> add, remove;
  std::optional<std::pair<uint64_t, uint64_t>> narrow;  // base, size for the first region
  int regions = 0;
  std::optional<MemoryRange> memory() override { return next(add); }
  std::optional<MemoryRange> remove_memory() override { return next(remove); }
  bool include_vm_region(VmRegionInfo& region) override {
    if (regions++ == 0 && narrow) {
      region.base = narrow->first;
      region.size = narrow->second;
    }
    return true;
  }

 private:
  static std::optional<MemoryRange> next(std::vector<MemoryRange>& list) {
    if (list.empty()) return std::nullopt;
    MemoryRange r = list.front();
    list.erase(list.begin());
    return r;
  }
};

TEST(CoreSegments, CallbacksNarrowAddAndRemoveAndLeftOutBytesKeepTheirAddressSpace) {
  HandView v;
  v.add(0x100000, 16 * kPageSize, kRW, false, "[heap]", 0);
  v.add(0x200000, 16 * kPageSize, kRX, false, "/usr/bin/x", 7).file_offset = kMiB;
  Narrowing cb;
  cb.narrow = {0x100000 + 4 * kPageSize, 8 * kPageSize};
  cb.remove.push_back({0x100000 + 6 * kPageSize + 10, 1});  // one byte: its whole page goes
  cb.add.push_back({0x200000 + 2 * kPageSize, kPageSize});
  Steering steering(&cb);
  std::vector<Segment> s = plan_segments(v, Selection{}, steering);
  // heap: [0,4) no bytes, [4,6) bytes, [7,12) bytes then [12,16) none; code: [0,2) none, [2,3) bytes + rest.
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0].start, 0x100000u);
  EXPECT_EQ(s[0].file_size, 0u);
  EXPECT_EQ(s[1].start, 0x100000u + 4 * kPageSize);
  EXPECT_EQ(s[1].file_size, 2 * kPageSize);
  EXPECT_EQ(s[1].end, 0x100000u + 7 * kPageSize);  // the removed page as the rest of this PT_LOAD
  EXPECT_EQ(s[2].start, 0x100000u + 7 * kPageSize);
  EXPECT_EQ(s[2].file_size, 5 * kPageSize);
  EXPECT_EQ(s[2].end, 0x100000u + 16 * kPageSize);
  EXPECT_EQ(s[3].start, 0x200000u);
  EXPECT_EQ(s[3].file_size, 0u);
  EXPECT_EQ(s[4].start, 0x200000u + 2 * kPageSize);
  EXPECT_EQ(s[4].file_size, kPageSize);
  EXPECT_EQ(s[4].end, 0x200000u + 16 * kPageSize);
  EXPECT_EQ(s[4].flags, static_cast<uint32_t>(PF_R | PF_X));
  // Every byte of both mappings is covered once, in order.
  uint64_t covered = 0;
  for (const Segment& seg : s) covered += seg.end - seg.start;
  EXPECT_EQ(covered, 32 * kPageSize);
}

TEST(CoreNotes, TheSignalsThreadComesFirstThenTheMainThread) {
  view::ThreadState a, b, c;
  a.tid = 10, b.tid = 11, c.tid = 12;
  std::vector<const view::ThreadState*> all{&a, &b, &c};
  view::Signal sig;
  sig.thread = 12;
  EXPECT_EQ(ordered_threads(all, 10, sig)[0]->tid, 12);
  EXPECT_EQ(ordered_threads(all, 11, std::nullopt)[0]->tid, 11);
  EXPECT_EQ(ordered_threads(all, 11, std::nullopt).size(), 3u);
}

TEST(CoreNotes, FileNoteListsEveryFileMappingInPages) {
  HandView v;
  v.add(0x400000, kMiB, kRX, false, "/usr/bin/x", 7).file_offset = 2 * kPageSize;
  v.add(0x500000, kMiB, kRW, false, "[heap]", 0);
  v.add(0x600000, kMiB, kRW, true, "/dev/zero (deleted)", 9);
  std::vector<uint8_t> note = file_note(v);
  ASSERT_GE(note.size(), 2 * 8 + 2 * 24u);
  uint64_t words[8];
  std::memcpy(words, note.data(), sizeof words);
  EXPECT_EQ(words[0], 2u);  // count
  EXPECT_EQ(words[1], kPageSize);
  EXPECT_EQ(words[2], 0x400000u);
  EXPECT_EQ(words[3], 0x400000u + kMiB);
  EXPECT_EQ(words[4], 2u);  // offset in pages
  EXPECT_EQ(words[5], 0x600000u);
  std::string names(note.begin() + 8 * 8, note.end());
  EXPECT_EQ(names, std::string("/usr/bin/x\0/dev/zero (deleted)\0", 31));
}

}  // namespace
}  // namespace snapdump::writer::core
