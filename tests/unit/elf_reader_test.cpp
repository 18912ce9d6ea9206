// The bounded ELF reader: heap-free on the capture path (kCreateUseVmAllocations), and safe on
// corrupt files (every case here runs under ASan+UBSan in the sanitizer build).
#include "linux/elf_reader.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "linux/elf_identity.h"
#include "linux/procfs.h"
#include "snapshot/thread_start.h"
#include "support/heap_counter.h"

namespace snapdump::os {
namespace {

// ---- heap-free ---------------------------------------------------------------------------------

// Resources that cannot reach the heap: a static buffer with the null resource behind it.
struct StaticResources {
  alignas(std::max_align_t) static inline std::byte out_bytes[4 << 20];
  alignas(std::max_align_t) static inline std::byte scratch_bytes[4 << 20];
  std::pmr::monotonic_buffer_resource out{out_bytes, sizeof out_bytes, std::pmr::null_memory_resource()};
  std::pmr::monotonic_buffer_resource scratch{scratch_bytes, sizeof scratch_bytes, std::pmr::null_memory_resource()};
};

bool is_libc(const Region& region) {
  std::string_view path = region.path;
  return path.ends_with("/libc.so.6");
}

TEST(ElfReaderHeapFree, AttachModuleIdentitiesTakesNothingFromTheHeap) {
  StaticResources memory;
  auto regions = read_maps(::getpid(), true);  // not heap-free itself: outside the watch
  long before = testing::heap_watched_count();
  testing::heap_watch(true);
  attach_module_identities(::getpid(), regions, &memory.out, &memory.scratch);
  testing::heap_watch(false);
  EXPECT_EQ(testing::heap_watched_count() - before, 0);

  // And it did the work, into `out`.
  int modules = 0;
  const Region* libc = nullptr;
  for (const Region& r : regions) {
    if (!r.elf) continue;
    ++modules;
    EXPECT_EQ(r.elf->build_id.get_allocator().resource(), &memory.out) << r.path;
    EXPECT_EQ(r.elf->soname.get_allocator().resource(), &memory.out) << r.path;
    if (is_libc(r)) libc = &r;
  }
  EXPECT_GE(modules, 3);  // the test binary, libc, the vDSO at least
  ASSERT_NE(libc, nullptr);
  EXPECT_EQ(libc->elf->soname, "libc.so.6");
  EXPECT_FALSE(libc->elf->build_id.empty());
}

TEST(ElfReaderHeapFree, SymbolLookupAndThreadStartsTakeNothingFromTheHeap) {
  StaticResources memory;
  auto regions = read_maps(::getpid(), false);
  std::string auxv = read_text_file("/proc/self/auxv");
  std::vector<ThreadEntry> threads(1);
  threads[0].tid = ::getpid();
  attach_module_identities(::getpid(), regions);
  const Region* libc = nullptr;
  for (const Region& r : regions) {
    if (r.elf && is_libc(r)) libc = &r;
  }
  ASSERT_NE(libc, nullptr);
  long before = testing::heap_watched_count();
  testing::heap_watch(true);
  auto offset = module_symbol_offset(::getpid(), *libc, "_thread_db_pthread_start_routine", &memory.scratch);
  auto missing = module_symbol_offset(::getpid(), *libc, "no_such_symbol_in_libc", &memory.scratch);
  snapdump::detail::attach_thread_starts(::getpid(), regions, auxv, threads, &memory.scratch);
  testing::heap_watch(false);
  EXPECT_EQ(testing::heap_watched_count() - before, 0);
  ASSERT_TRUE(offset.has_value());
  EXPECT_GT(*offset, 0u);
  EXPECT_FALSE(missing.has_value());
  EXPECT_EQ(threads[0].start_address, ::getauxval(AT_ENTRY));
}

TEST(ElfReaderHeapFree, ReadElfIdentityTakesNothingFromTheHeap) {
  StaticResources memory;
  long before = testing::heap_watched_count();
  testing::heap_watch(true);
  auto identity = read_elf_identity("/proc/self/exe", &memory.out, &memory.scratch);
  testing::heap_watch(false);
  EXPECT_EQ(testing::heap_watched_count() - before, 0);
  ASSERT_TRUE(identity.has_value());
  EXPECT_FALSE(identity->build_id.empty());
  EXPECT_EQ(identity->build_id.get_allocator().resource(), &memory.out);
}

// ---- corrupt input -----------------------------------------------------------------------------

// A small, valid shared object laid out by hand: one PT_LOAD mapping the whole file at address
// 0, a PT_NOTE with a build-id, a PT_DYNAMIC with a soname, and sections for the same plus a
// .dynsym with one defined symbol.
struct Image {
  static constexpr size_t kPhoff = sizeof(Elf64_Ehdr);
  static constexpr size_t kPhnum = 3;
  static constexpr size_t kNote = kPhoff + kPhnum * sizeof(Elf64_Phdr);
  static constexpr size_t kNoteSize = sizeof(Elf64_Nhdr) + 4 + 20;
  static constexpr size_t kStr = kNote + kNoteSize;
  static constexpr char kStrings[] = "\0libtest.so.1\0sym_one";  // indexes 1 and 14
  static constexpr size_t kStrSize = sizeof kStrings;
  static constexpr size_t kDyn = (kStr + kStrSize + 7) & ~size_t{7};
  static constexpr size_t kDynCount = 4;
  static constexpr size_t kSym = kDyn + kDynCount * sizeof(Elf64_Dyn);
  static constexpr size_t kShoff = kSym + 2 * sizeof(Elf64_Sym);
  static constexpr size_t kShnum = 5;
  static constexpr size_t kSize = kShoff + kShnum * sizeof(Elf64_Shdr);

  std::vector<uint8_t> bytes = std::vector<uint8_t>(kSize);

  template <class T>
  T* at(size_t offset) { return reinterpret_cast<T*>(bytes.data() + offset); }
  Elf64_Ehdr& ehdr() { return *at<Elf64_Ehdr>(0); }
  Elf64_Phdr& phdr(size_t i) { return at<Elf64_Phdr>(kPhoff)[i]; }
  Elf64_Shdr& shdr(size_t i) { return at<Elf64_Shdr>(kShoff)[i]; }
  Elf64_Nhdr& note() { return *at<Elf64_Nhdr>(kNote); }
  Elf64_Dyn& dyn(size_t i) { return at<Elf64_Dyn>(kDyn)[i]; }
  Elf64_Sym& sym(size_t i) { return at<Elf64_Sym>(kSym)[i]; }

  Image() {
    Elf64_Ehdr& eh = ehdr();
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_ehsize = sizeof(Elf64_Ehdr);
    eh.e_phoff = kPhoff;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = kPhnum;
    eh.e_shoff = kShoff;
    eh.e_shentsize = sizeof(Elf64_Shdr);
    eh.e_shnum = kShnum;
    phdr(0) = {PT_LOAD, PF_R, 0, 0, 0, kSize, kSize, 0x1000};
    phdr(1) = {PT_NOTE, PF_R, kNote, kNote, kNote, kNoteSize, kNoteSize, 4};
    phdr(2) = {PT_DYNAMIC, PF_R, kDyn, kDyn, kDyn, kDynCount * sizeof(Elf64_Dyn), kDynCount * sizeof(Elf64_Dyn), 8};
    note() = {4, 20, NT_GNU_BUILD_ID};
    std::memcpy(at<char>(kNote + sizeof(Elf64_Nhdr)), "GNU", 4);
    for (int i = 0; i < 20; ++i) bytes[kNote + sizeof(Elf64_Nhdr) + 4 + i] = static_cast<uint8_t>(0xa0 + i);
    std::memcpy(at<char>(kStr), kStrings, kStrSize);
    dyn(0) = {DT_STRTAB, {kStr}};
    dyn(1) = {DT_STRSZ, {kStrSize}};
    dyn(2) = {DT_SONAME, {1}};
    dyn(3) = {DT_NULL, {0}};
    sym(1) = {14, ELF64_ST_INFO(STB_GLOBAL, STT_OBJECT), 0, 1, 0x1234, 8};
    shdr(1) = {0, SHT_DYNSYM, 0, kSym, kSym, 2 * sizeof(Elf64_Sym), 2, 1, 8, sizeof(Elf64_Sym)};
    shdr(2) = {0, SHT_STRTAB, 0, kStr, kStr, kStrSize, 0, 0, 1, 0};
    shdr(3) = {0, SHT_DYNAMIC, 0, kDyn, kDyn, kDynCount * sizeof(Elf64_Dyn), 2, 0, 8, sizeof(Elf64_Dyn)};
    shdr(4) = {0, SHT_NOTE, 0, kNote, kNote, kNoteSize, 0, 0, 4, 0};
  }
};

class ElfReaderCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/snapdump-elf-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& f : files_) ::unlink(f.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string write(const std::vector<uint8_t>& bytes) {
    std::string path = dir_ + "/f" + std::to_string(files_.size());
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    files_.push_back(path);
    return path;
  }
  // The symbol lookup the capture does, on a file.
  std::optional<uint64_t> symbol(const std::vector<uint8_t>& bytes, std::string_view name) {
    std::string path = write(bytes);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    auto source = elf::ElfSource::file(fd, bytes.size());
    std::vector<uint8_t> records(4096), strings(4096);
    std::optional<uint64_t> result;
    if (auto reader = elf::ElfReader::open(source, records)) result = reader->symbol_offset(name, strings);
    ::close(fd);
    return result;
  }
  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(ElfReaderCorrupt, TheValidImageReads) {
  Image image;
  auto identity = read_elf_identity(write(image.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->elf_type, ET_DYN);
  EXPECT_EQ(identity->soname, "libtest.so.1");
  ASSERT_EQ(identity->build_id.size(), 20u);
  EXPECT_EQ(identity->build_id[0], 0xa0);
  EXPECT_EQ(symbol(image.bytes, "sym_one"), 0x1234u);
  EXPECT_FALSE(symbol(image.bytes, "sym_two").has_value());
  EXPECT_FALSE(symbol(image.bytes, "sym_on").has_value());

  // Without section headers the soname comes from PT_DYNAMIC, and the build-id from PT_NOTE.
  image.ehdr().e_shoff = 0;
  image.ehdr().e_shnum = 0;
  identity = read_elf_identity(write(image.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_EQ(identity->soname, "libtest.so.1");
  EXPECT_EQ(identity->build_id.size(), 20u);
}

TEST_F(ElfReaderCorrupt, BrokenHeadersGiveNoIdentity) {
  Image image;
  std::vector<uint8_t> truncated(image.bytes.begin(), image.bytes.begin() + 40);
  EXPECT_FALSE(read_elf_identity(write(truncated)).has_value());
  EXPECT_FALSE(symbol(truncated, "sym_one").has_value());

  Image past_eof;
  past_eof.ehdr().e_phoff = Image::kSize + 4096;
  EXPECT_FALSE(read_elf_identity(write(past_eof.bytes)).has_value());

  Image wrapping;
  wrapping.ehdr().e_phoff = UINT64_MAX - 8;
  EXPECT_FALSE(read_elf_identity(write(wrapping.bytes)).has_value());

  Image huge_phnum;
  huge_phnum.ehdr().e_phnum = 60000;  // a table far larger than the file
  EXPECT_FALSE(read_elf_identity(write(huge_phnum.bytes)).has_value());

  Image extended;  // PN_XNUM: the real count is section 0's sh_info
  extended.ehdr().e_phnum = PN_XNUM;
  extended.shdr(0).sh_info = 0xffffffff;
  EXPECT_FALSE(read_elf_identity(write(extended.bytes)).has_value());

  Image huge_shnum;
  huge_shnum.ehdr().e_shnum = 0;
  huge_shnum.shdr(0).sh_size = uint64_t{1} << 40;
  EXPECT_FALSE(read_elf_identity(write(huge_shnum.bytes)).has_value());
  EXPECT_FALSE(symbol(huge_shnum.bytes, "sym_one").has_value());

  Image shoff_past_eof;
  shoff_past_eof.ehdr().e_shoff = Image::kSize - 10;
  EXPECT_FALSE(read_elf_identity(write(shoff_past_eof.bytes)).has_value());

  Image elf32;
  elf32.ehdr().e_ident[EI_CLASS] = ELFCLASS32;
  EXPECT_FALSE(read_elf_identity(write(elf32.bytes)).has_value());
}

TEST_F(ElfReaderCorrupt, LyingNotesGiveNoBuildId) {
  for (uint32_t descsz : {0xffffffffu, 0x10000u, static_cast<uint32_t>(Image::kNoteSize)}) {
    Image image;
    image.note().n_descsz = descsz;
    auto identity = read_elf_identity(write(image.bytes));
    ASSERT_TRUE(identity.has_value());
    EXPECT_TRUE(identity->build_id.empty()) << descsz;
    EXPECT_EQ(identity->soname, "libtest.so.1");
  }
  Image namesz;
  namesz.note().n_namesz = 0xfffffff0u;
  auto identity = read_elf_identity(write(namesz.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->build_id.empty());

  Image segment;  // the note segment itself reaches past the end of the file
  segment.phdr(1).p_filesz = uint64_t{1} << 62;
  segment.shdr(4).sh_offset = Image::kSize + 1;
  identity = read_elf_identity(write(segment.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->build_id.empty());
}

TEST_F(ElfReaderCorrupt, DynamicAndStringsOutsideTheFileGiveNoSoname) {
  auto no_sections = [](Image& image) {
    image.ehdr().e_shoff = 0;
    image.ehdr().e_shnum = 0;
  };
  Image dynamic;  // PT_DYNAMIC pointing outside the file
  no_sections(dynamic);
  dynamic.phdr(2).p_offset = Image::kSize + 64;
  auto identity = read_elf_identity(write(dynamic.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->soname.empty());

  Image strtab;  // DT_STRTAB at an address no PT_LOAD maps from the file
  no_sections(strtab);
  strtab.dyn(0).d_un.d_ptr = Image::kSize + 4096;
  identity = read_elf_identity(write(strtab.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->soname.empty());

  Image strsz;  // DT_STRSZ running past the end of the file
  no_sections(strsz);
  strsz.dyn(1).d_un.d_val = uint64_t{1} << 40;
  strsz.dyn(2).d_un.d_val = uint64_t{1} << 39;
  identity = read_elf_identity(write(strsz.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->soname.empty());

  Image unterminated;  // the soname's NUL would be past the string table
  no_sections(unterminated);
  unterminated.dyn(1).d_un.d_val = 5;
  identity = read_elf_identity(write(unterminated.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->soname.empty());

  Image section;  // .dynstr past the end of the file; PT_DYNAMIC broken too
  section.shdr(2).sh_offset = Image::kSize + 100;
  section.phdr(2).p_offset = Image::kSize + 64;
  identity = read_elf_identity(write(section.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->soname.empty());
  EXPECT_FALSE(symbol(section.bytes, "sym_one").has_value());

  Image link;  // .dynamic's sh_link naming no section
  link.shdr(3).sh_link = 999;
  link.phdr(2).p_offset = Image::kSize + 64;
  identity = read_elf_identity(write(link.bytes));
  ASSERT_TRUE(identity.has_value());
  EXPECT_TRUE(identity->soname.empty());
}

TEST_F(ElfReaderCorrupt, SymbolsWithBadNamesOrTablesAreNotFound) {
  Image name;  // st_name past the string table
  name.sym(1).st_name = Image::kStrSize + 100;
  EXPECT_FALSE(symbol(name.bytes, "sym_one").has_value());

  Image edge;  // st_name inside, but its NUL would not be
  edge.sym(1).st_name = Image::kStrSize - 3;
  EXPECT_FALSE(symbol(edge.bytes, "sym_one").has_value());

  Image table;  // .dynsym larger than the file
  table.shdr(1).sh_size = uint64_t{1} << 50;
  EXPECT_FALSE(symbol(table.bytes, "sym_one").has_value());

  Image link;
  link.shdr(1).sh_link = 4;  // a note, not a string table
  EXPECT_FALSE(symbol(link.bytes, "sym_one").has_value());

  Image undefined;
  undefined.sym(1).st_shndx = SHN_UNDEF;
  EXPECT_FALSE(symbol(undefined.bytes, "sym_one").has_value());
}

// Random damage to the image, read from memory and from a file through small windows (so that
// refills and records straddling them are exercised): whatever the bytes, the reader returns,
// and under ASan without touching memory it should not.
TEST_F(ElfReaderCorrupt, RandomDamageNeverCrashes) {
  std::mt19937_64 random(12345);
  Image image;
  std::vector<uint8_t> window(256), strings(64);
  std::pmr::monotonic_buffer_resource memory;
  std::string path = write(image.bytes);
  auto read_all = [&](const elf::ElfSource& source) {
    if (auto reader = elf::ElfReader::open(source, window)) {
      std::pmr::vector<uint8_t> build_id(&memory);
      std::pmr::string soname(&memory);
      reader->build_id(build_id);
      reader->soname(soname);
      EXPECT_LE(build_id.size(), 512u);
      reader->symbol_offset("sym_one", strings);
    }
  };
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint8_t> bytes = image.bytes;
    int edits = 1 + static_cast<int>(random() % 8);
    for (int e = 0; e < edits; ++e) {
      size_t at = random() % bytes.size();
      if (random() % 2) {
        bytes[at] = static_cast<uint8_t>(random());
      } else if (at + 8 <= bytes.size()) {
        uint64_t value = random() % 3 == 0 ? UINT64_MAX - random() % 4096 : random() % (2 * bytes.size());
        std::memcpy(bytes.data() + at, &value, sizeof value);
      }
    }
    if (random() % 4 == 0) bytes.resize(random() % bytes.size());
    read_all(elf::ElfSource::memory(bytes));
    if (round % 4 != 0) continue;  // files are slower; a quarter of the rounds is plenty

    int fd = ::open(path.c_str(), O_RDWR | O_TRUNC | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    read_all(elf::ElfSource::file(fd, bytes.size()));
    ::close(fd);
    if (round % 100 == 0) {  // the whole path, with its 64 KiB window
      auto identity = read_elf_identity(path);
      if (identity) {
        EXPECT_LE(identity->build_id.size(), 512u);
      }
    }
  }
}

}  // namespace
}  // namespace snapdump::os
