// How a dump reaches its file: a full dump's memory goes to a path with direct I/O, past the
// page cache, where the file system takes it; the same bytes as through the page cache; a chunk
// that is not aligned sends the rest through the page cache; a caller's fd open with O_APPEND
// is refused before anything is written.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "snapdump/dump_callbacks.h"
#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/file_bytes.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using snapdump::testing::parse_address;
using snapdump::testing::TargetProcess;

constexpr uint64_t kHeapBytes = 64u << 20;

std::string temp_dump(const char* name) { return snapdump::testing::temp_dump_path(std::string("fileio-") + name); }

// Whether a file in `dir` takes a page-aligned direct write: what the sink finds out too, asked
// here by doing it, so the expectation does not come from the code under test.
bool takes_direct_writes(const std::filesystem::path& dir) {
  std::string probe = (dir / ("snapdump-direct-probe-" + std::to_string(getpid()))).string();
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  bool ok = false;
  if (fd >= 0) {
    void* page = std::aligned_alloc(4096, 4096);
    std::memset(page, 0, 4096);
    ok = pwrite(fd, page, 4096, 0) == 4096;
    std::free(page);
    close(fd);
  }
  unlink(probe.c_str());
  return ok;
}

using snapdump::testing::file_bytes;

// The Memory64List's BaseRva, read from the raw file.
uint64_t memory64_base_rva(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  format::Header header{};
  EXPECT_EQ(pread(fd, &header, sizeof header, 0), static_cast<ssize_t>(sizeof header));
  uint64_t base = 0;
  for (uint32_t i = 0; i < header.number_of_streams; ++i) {
    format::Directory entry{};
    EXPECT_EQ(pread(fd, &entry, sizeof entry, header.stream_directory_rva + i * sizeof entry),
              static_cast<ssize_t>(sizeof entry));
    if (entry.stream_type != static_cast<uint32_t>(format::StreamType::Memory64List)) continue;
    format::Memory64ListHeader list{};
    EXPECT_EQ(pread(fd, &list, sizeof list, entry.location.rva), static_cast<ssize_t>(sizeof list));
    base = list.base_rva;
  }
  close(fd);
  return base;
}

// Which pages of the file sit in the page cache (mincore on a mapping of it), taken before
// anything reads the file: a read would bring in the pages around it (read-ahead).
std::vector<bool> cached_pages(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  fstat(fd, &st);
  size_t size = static_cast<size_t>(st.st_size);
  void* map = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  EXPECT_NE(map, MAP_FAILED);
  std::vector<unsigned char> resident((size + 4095) / 4096);
  EXPECT_EQ(mincore(map, size, resident.data()), 0) << std::strerror(errno);
  munmap(map, size);
  std::vector<bool> cached(resident.size());
  for (size_t i = 0; i < resident.size(); ++i) cached[i] = resident[i] & 1;
  return cached;
}

uint64_t cached_bytes_from(const std::vector<bool>& pages, uint64_t from) {
  uint64_t bytes = 0;
  for (size_t i = from / 4096; i < pages.size(); ++i) bytes += pages[i] ? 4096 : 0;
  return bytes;
}

// Every word of the target's heap as the dump holds it, against the pattern the target wrote.
void expect_heap_pattern(const reader::Minidump& d, uint64_t heap, uint64_t bytes) {
  std::vector<uint8_t> got(bytes);
  ASSERT_EQ(d.read_memory(heap, got), bytes);
  size_t wrong = 0;
  for (uint64_t off = 0; off < bytes; off += 8) {
    uint64_t word = 0;
    std::memcpy(&word, got.data() + off, 8);
    if (word != snapdump::testing::expected_heap_word(off) && wrong++ < 3) {
      ADD_FAILURE() << "heap word at offset " << off << " is " << std::hex << word;
    }
  }
  EXPECT_EQ(wrong, 0u);
}

struct Dumped {
  std::unique_ptr<TargetProcess> target;
  Snapshot snap;
  uint64_t heap = 0;
};

Dumped capture_target() {
  Dumped d;
  d.target = TargetProcess::spawn({"--heap-mib", std::to_string(kHeapBytes >> 20)});
  d.heap = parse_address(d.target->report()["heap"]["addr"]);
  d.snap = Snapshot::capture(d.target->pid(), capture_flags_for(dump::kWithFullMemory) | capture::kVaClone);
  return d;
}

TEST(DumpFileIo, FullDumpMemoryGoesPastThePageCacheWhereTheFileSystemTakesDirectWrites) {
  Dumped t = capture_target();
  std::string path = temp_dump("direct");
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  DumpResult result = write_minidump(t.snap, path, options);
  EXPECT_GE(result.memory_bytes, kHeapBytes);
  std::vector<bool> pages = cached_pages(path);
  uint64_t base = memory64_base_rva(path);
  uint64_t cached = cached_bytes_from(pages, base);
  bool direct = takes_direct_writes(std::filesystem::path(path).parent_path());
  auto d = testing::read_dump(path);
  uint64_t memory64 = 0;
  for (const auto& range : d.memory()) memory64 += range.from_memory64 ? range.bytes.size() : 0;
  EXPECT_GE(memory64, kHeapBytes);
  if (direct) {
    // Every chunk is whole pages at a page-aligned offset, so all of the Memory64List's bytes
    // go direct (the MemoryList's stacks are in the streams before it, through the page cache).
    EXPECT_EQ(base % 4096, 0u);
    EXPECT_EQ(result.direct_io_bytes, memory64);
    // What went direct was never in the page cache.
    EXPECT_LT(cached, 1u << 20) << "of " << memory64 << " bytes";
  } else {
    EXPECT_EQ(result.direct_io_bytes, 0u);
  }
  expect_heap_pattern(d, t.heap, kHeapBytes);
  std::filesystem::remove(path);
}

TEST(DumpFileIo, DirectWritesHoldTheSameBytesAsThePageCachePath) {
  Dumped t = capture_target();
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kWithFullMemoryInfo;
  std::string direct = temp_dump("same-direct"), buffered = temp_dump("same-buffered");
  DumpResult by_path = write_minidump(t.snap, direct, options);
  // A caller's fd is always written through the page cache.
  int fd = open(buffered.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  DumpResult by_fd = write_minidump(t.snap, fd, options);
  close(fd);
  EXPECT_EQ(by_fd.direct_io_bytes, 0u);
  EXPECT_EQ(by_path.memory_bytes, by_fd.memory_bytes);
  auto a = testing::read_dump(direct), b = testing::read_dump(buffered);
  auto ra = a.memory(), rb = b.memory();
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].address, rb[i].address);
    ASSERT_EQ(ra[i].bytes.size(), rb[i].bytes.size()) << "range " << i;
    EXPECT_EQ(std::memcmp(ra[i].bytes.data(), rb[i].bytes.data(), ra[i].bytes.size()), 0)
        << "range " << i << " at " << std::hex << ra[i].address;
  }
  expect_heap_pattern(a, t.heap, kHeapBytes);
  std::filesystem::remove(direct);
  std::filesystem::remove(buffered);
}

// Cuts the read that holds heap + keep there, a length that is not whole pages.
struct CutHeapRead : DumpCallbacks {
  uint64_t heap = 0;
  size_t keep = 0;
  bool cut = false;
  bool vm_start() override { return true; }
  VmReadAnswer vm_post_read(uint64_t address, std::span<uint8_t>, size_t completed, int error) override {
    uint64_t at = heap + keep;
    if (!cut && address <= at && at < address + completed) {
      cut = true;
      return {EFAULT, static_cast<size_t>(at - address)};
    }
    return {error, completed};
  }
};

TEST(DumpFileIo, AChunkThatIsNotWholePagesSendsTheRestThroughThePageCache) {
  Dumped t = capture_target();
  std::string path = temp_dump("cut");
  std::string reference = temp_dump("cut-reference");
  DumpOptions options;
  options.type = dump::kWithFullMemory | dump::kIgnoreInaccessibleMemory;
  write_minidump(t.snap, reference, options);
  CutHeapRead cb;
  cb.heap = t.heap;
  cb.keep = (1u << 20) + 1000;
  options.callbacks = &cb;
  DumpResult result = write_minidump(t.snap, path, options);
  ASSERT_TRUE(cb.cut) << "no read started at the heap";
  bool direct = takes_direct_writes(std::filesystem::path(path).parent_path());
  if (direct) {
    // What precedes the heap went direct; the heap's cut chunk and all after it did not.
    EXPECT_GT(result.direct_io_bytes, 0u);
    EXPECT_LT(result.direct_io_bytes, result.memory_bytes - cb.keep);
    EXPECT_EQ(result.direct_io_bytes % 4096, 0u);
  } else {
    EXPECT_EQ(result.direct_io_bytes, 0u);
  }
  // The file is whole: the heap holds the kept bytes and stops there; every other range is
  // byte for byte the reference dump's.
  auto d = testing::read_dump(path), r = testing::read_dump(reference);
  std::vector<uint8_t> beyond(16);
  EXPECT_EQ(d.read_memory(t.heap + cb.keep, beyond), 0u);
  expect_heap_pattern(d, t.heap, cb.keep & ~uint64_t{7});
  size_t compared = 0;
  for (const auto& range : r.memory()) {
    if (range.address == t.heap) continue;
    std::vector<uint8_t> got(range.bytes.size());
    ASSERT_EQ(d.read_memory(range.address, got), got.size()) << std::hex << range.address;
    EXPECT_EQ(std::memcmp(got.data(), range.bytes.data(), got.size()), 0) << std::hex << range.address;
    ++compared;
  }
  EXPECT_GT(compared, 5u);
  std::filesystem::remove(path);
  std::filesystem::remove(reference);
}

TEST(DumpFileIo, ACallersFdOpenWithAppendIsRefusedAndLeftAlone) {
  Dumped t = capture_target();
  std::string path = temp_dump("append");
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(write(fd, "kept", 4), 4);
  DumpOptions options;
  options.type = dump::kWithFullMemory;
  try {
    write_minidump(t.snap, fd, options);
    ADD_FAILURE() << "a dump went to an O_APPEND descriptor";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("O_APPEND"), std::string::npos) << e.what();
  }
  close(fd);
  EXPECT_EQ(file_bytes(path), (std::vector<uint8_t>{'k', 'e', 'p', 't'}));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
