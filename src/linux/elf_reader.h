// A small, bounded, validating reader of ELF64 little-endian files (what x86-64 Linux maps),
// for module identities and one symbol lookup during a capture.
//
// Why hand-rolled rather than libelf: libelf allocates with malloc (its Elf descriptor, section
// lists, converted data), and with kCreateUseVmAllocations the capture path must not touch the
// heap at all (a crash handler's heap may be corrupt). This reader pread()s a file (or reads a
// buffer, for the vDSO copied from the target) through a fixed window in caller-provided memory
// and copies results into containers of the caller's memory resource. It never trusts the
// file: every offset and size is checked against the file size, table counts are capped, and
// string reads are bounded, so a corrupt file gives no result rather than a crash or a huge
// allocation.
#pragma once

#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <memory_resource>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace snapdump::os::elf {

// Bytes of an ELF image: an open file read with pread, or memory already in this process.
class ElfSource {
 public:
  static ElfSource file(int fd, uint64_t size) { return ElfSource(fd, size, {}); }
  static ElfSource memory(std::span<const uint8_t> bytes) { return ElfSource(-1, bytes.size(), bytes); }

  uint64_t size() const { return size_; }
  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size_ && length <= size_ - offset;
  }
  // Reads exactly `length` bytes at `offset`; false when outside the image or the read fails.
  bool read(uint64_t offset, void* out, size_t length) const;
  bool in_memory() const { return !bytes_.empty(); }
  // The bytes themselves for a memory source (no copy), else nullptr.
  const uint8_t* direct(uint64_t offset, size_t length) const {
    return !bytes_.empty() && contains(offset, length) ? bytes_.data() + offset : nullptr;
  }

 private:
  ElfSource(int fd, uint64_t size, std::span<const uint8_t> bytes) : fd_(fd), size_(size), bytes_(bytes) {}
  int fd_;
  uint64_t size_;
  std::span<const uint8_t> bytes_;
};

// A cached stretch of a source in a fixed buffer: sequential scans cost one pread per buffer
// rather than one per record. A pointer it returns is valid until its next call.
class Window {
 public:
  Window(const ElfSource& source, std::span<uint8_t> buffer) : source_(source), buffer_(buffer) {}
  // The `length` bytes at `offset`, or nullptr when they are not all inside the source or do
  // not fit the buffer.
  const uint8_t* get(uint64_t offset, size_t length);
  template <class T>
  bool get_as(uint64_t offset, T& out);
  // The longest run get() can return.
  size_t capacity() const { return source_.in_memory() ? SIZE_MAX : buffer_.size(); }

 private:
  const ElfSource& source_;
  std::span<uint8_t> buffer_;
  uint64_t base_ = 0;
  size_t filled_ = 0;
};

// Buffer memory from a resource, returned to it at scope exit (a no-op for a bump arena, which
// is why callers take one per file or per call, not per read).
class ScratchBuffer {
 public:
  ScratchBuffer(std::pmr::memory_resource* resource, size_t size)
      : resource_(resource), bytes_(static_cast<uint8_t*>(resource->allocate(size, 16)), size) {}
  ~ScratchBuffer() { resource_->deallocate(bytes_.data(), bytes_.size(), 16); }
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;
  std::span<uint8_t> bytes() const { return bytes_; }

 private:
  std::pmr::memory_resource* resource_;
  std::span<uint8_t> bytes_;
};

// Reading an ELF64 little-endian image. Machine-independent on purpose: libelf accepted any
// machine too, and the record layouts depend only on class and byte order.
class ElfReader {
 public:
  // Validates the ELF header and the extent of both header tables; nullopt when the image is
  // not ELF64 little-endian or a header table lies outside it.
  static std::optional<ElfReader> open(const ElfSource& source, std::span<uint8_t> window);

  const Elf64_Ehdr& header() const { return ehdr_; }
  size_t program_header_count() const { return phnum_; }
  size_t section_header_count() const { return shnum_; }
  std::optional<Elf64_Phdr> program_header(size_t index);
  std::optional<Elf64_Shdr> section_header(size_t index);

  // The file offset of `length` bytes at virtual address `address`, through the PT_LOAD that
  // maps them from the file.
  std::optional<uint64_t> file_offset_of(uint64_t address, uint64_t length);

  // The NT_GNU_BUILD_ID note (program headers first, then SHT_NOTE sections); false if none.
  bool build_id(std::pmr::vector<uint8_t>& out);
  // DT_SONAME, from SHT_DYNAMIC sections, else from PT_DYNAMIC; false if none.
  bool soname(std::pmr::string& out);
  // The value of defined dynamic symbol `name` (SHT_DYNSYM) less the lowest PT_LOAD page: its
  // offset from the module base. Strings are read through `strings`, a second window, so that
  // a scan does not make the two tables evict each other.
  std::optional<uint64_t> symbol_offset(std::string_view name, std::span<uint8_t> strings);

 private:
  ElfReader(const ElfSource& source, std::span<uint8_t> window) : source_(&source), window_(source, window) {}
  bool soname_from_sections(std::pmr::string& out);
  bool soname_from_segments(std::pmr::string& out);
  bool build_id_from_notes(uint64_t offset, uint64_t size, uint64_t align, std::pmr::vector<uint8_t>& out);
  // The NUL-terminated string at `index` of the string table [table, table + table_size),
  // bounded by the window; false when it does not end inside the table.
  bool string_at(uint64_t table, uint64_t table_size, uint64_t index, std::pmr::string& out);

  const ElfSource* source_;
  Window window_;
  Elf64_Ehdr ehdr_{};
  size_t phnum_ = 0, shnum_ = 0;
};

}  // namespace snapdump::os::elf
