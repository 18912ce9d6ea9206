// MiniDumpReadDumpStream over a dump mapped (or read) whole at BaseOfDump. The call has no
// size parameter, so the bounds are the process's own mappings: the header, the directory and
// the stream found must lie in mapped memory (mincore answers ENOMEM otherwise), and a
// truncated or corrupt dump is refused instead of read past its end into a fault.
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "snapdump/format/constants.h"
#include "snapdump/format/structs.h"
#include "win/win_errors.h"
#include "snapdump/win/minidumpapiset.h"

using namespace snapdump;
using namespace snapdump::win;

namespace {

// True when every page of [p, p + n) is mapped in this process.
bool mapped(const uint8_t* p, uint64_t n) {
  if (n == 0) return true;
  auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  auto start = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  auto end = reinterpret_cast<uintptr_t>(p) + n;
  if (end < reinterpret_cast<uintptr_t>(p)) return false;  // wraps
  std::vector<unsigned char> residency((end - start + page - 1) / page);
  return ::mincore(reinterpret_cast<void*>(start), end - start, residency.data()) == 0;
}

}  // namespace

extern "C" BOOL WINAPI MiniDumpReadDumpStream(PVOID BaseOfDump, ULONG StreamNumber, PMINIDUMP_DIRECTORY* Dir,
                                              PVOID* StreamPointer, ULONG* StreamSize) {
  if (Dir) *Dir = nullptr;
  if (StreamPointer) *StreamPointer = nullptr;
  if (StreamSize) *StreamSize = 0;
  if (!BaseOfDump) {
    set_last_error(ERROR_INVALID_PARAMETER);
    return FALSE;
  }
  auto* base = static_cast<uint8_t*>(BaseOfDump);
  if (!mapped(base, sizeof(format::Header))) {
    set_last_error(ERROR_NOACCESS);
    return FALSE;
  }
  format::Header header;
  std::memcpy(&header, base, sizeof header);
  if (header.signature != format::kSignature || (header.version & 0xFFFF) != format::kVersion) {
    set_last_error(ERROR_BAD_FORMAT);
    return FALSE;
  }
  // A directory past 4 GB or absurdly long means a corrupt header.
  if (header.number_of_streams > (1u << 20) || header.stream_directory_rva < sizeof header) {
    set_last_error(ERROR_FILE_CORRUPT);
    return FALSE;
  }
  if (!mapped(base + header.stream_directory_rva, uint64_t{header.number_of_streams} * sizeof(format::Directory))) {
    set_last_error(ERROR_FILE_CORRUPT);
    return FALSE;
  }
  for (uint32_t i = 0; i < header.number_of_streams; ++i) {
    auto* entry = reinterpret_cast<MINIDUMP_DIRECTORY*>(base + header.stream_directory_rva + i * sizeof(format::Directory));
    format::Directory d;
    std::memcpy(&d, entry, sizeof d);
    if (d.stream_type != StreamNumber) continue;
    if ((d.location.rva != 0 && d.location.rva < sizeof header) || !mapped(base + d.location.rva, d.location.data_size)) {
      set_last_error(ERROR_FILE_CORRUPT);
      return FALSE;
    }
    if (Dir) *Dir = entry;
    if (StreamPointer) *StreamPointer = base + d.location.rva;
    if (StreamSize) *StreamSize = d.location.data_size;
    return TRUE;
  }
  set_last_error(ERROR_NOT_FOUND);
  return FALSE;
}
