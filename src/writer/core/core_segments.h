// Which memory an ELF core holds: one PT_LOAD per mapping (or per piece of one, when callbacks
// narrow it), each with the bytes that go into the file. The choice is the kernel's
// (fs/binfmt_elf.c, vma_dump_size) driven by /proc/PID/coredump_filter, so a core from snapdump
// holds what the kernel's core of the same process would; then the dump callbacks steer it as
// they steer a minidump's full-memory pass (IncludeVmRegion, Memory, RemoveMemory).
#pragma once

#include <cstdint>
#include <vector>

#include "view/process_view.h"
#include "writer/dump_plan.h"

namespace snapdump::writer::core {

// coredump_filter bits (Documentation/filesystems/proc.rst, "coredump_filter").
namespace filter {
inline constexpr uint32_t kAnonPrivate = 1u << 0;
inline constexpr uint32_t kAnonShared = 1u << 1;
inline constexpr uint32_t kMappedPrivate = 1u << 2;
inline constexpr uint32_t kMappedShared = 1u << 3;
inline constexpr uint32_t kElfHeaders = 1u << 4;
inline constexpr uint32_t kHugetlbPrivate = 1u << 5;
inline constexpr uint32_t kHugetlbShared = 1u << 6;
inline constexpr uint32_t kDaxPrivate = 1u << 7;
inline constexpr uint32_t kDaxShared = 1u << 8;
inline constexpr uint32_t kDefault = 0x33;  // the kernel's default (CONFIG_CORE_DUMP_DEFAULT_ELF_HEADERS)
inline constexpr uint32_t kAll = 0x1ff;
}  // namespace filter

inline constexpr uint64_t kPageSize = 4096;

// One PT_LOAD: [start, end) of the address space, the first `file_size` bytes of it in the file.
struct Segment {
  uint64_t start = 0, end = 0;
  uint64_t file_size = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
};

struct Selection {
  uint32_t filter = filter::kDefault;
  bool full = false;  // every readable mapping whole, whatever the filter
};

// The bytes of `mapping` the kernel would dump under `selection`: 0, one page (an ELF header)
// or the whole mapping. Reads the mapping's first bytes through `view` for the ELF check.
uint64_t kernel_dump_size(const view::ProcessView& view, const view::Mapping& mapping, const Selection& selection);

// Every mapping's segments, in address order, limited to what the view holds (ProcessView::held),
// after the callbacks: MemoryCallback adds ranges
// (inside mappings; page-aligned outward), RemoveMemoryCallback takes them out (outward too, so
// what a caller removes is never partly written), IncludeVmRegionCallback narrows each mapping's
// bytes. A mapping's bytes that are left out make a PT_LOAD with a file size of 0, as the
// kernel writes for a mapping it does not dump: readers still see the address space.
std::vector<Segment> plan_segments(const view::ProcessView& view, const Selection& selection, Steering& steering);

}  // namespace snapdump::writer::core
