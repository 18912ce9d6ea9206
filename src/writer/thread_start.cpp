// Where each thread started: MINIDUMP_THREAD_INFO.StartAddress. The main thread started at the
// program's entry point (auxv AT_ENTRY). Every other thread was started by glibc's
// pthread_create, which keeps the start routine in the thread's own control block (struct
// pthread, at the thread pointer fs_base). Its offset there is glibc's to choose, so it is not
// guessed: glibc publishes it for debuggers as the libc symbol _thread_db_pthread_start_routine
// (the descriptor libthread_db reads: bit size, element count, byte offset).
#include <elf.h>

#include <cstring>
#include <string>

#include "linux/elf_symbols.h"
#include "writer/streams.h"

namespace snapdump::writer {
namespace {

bool ends_with(const std::string& s, const char* tail) {
  size_t n = std::strlen(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

}  // namespace

ThreadStarts::ThreadStarts(WriteContext& ctx) : ctx_(ctx) {
  entry_ = auxv_value(ctx.snapshot.process().auxv_raw, AT_ENTRY);
  for (const Region& r : ctx.snapshot.memory_map()) {
    // glibc 2.34 and later: libc.so.6; before, the descriptor lived in libpthread.so.0.
    if (!r.elf || r.path.empty() || !(ends_with(r.path, "/libc.so.6") || ends_with(r.path, "/libpthread.so.0"))) continue;
    auto offset = os::dynamic_symbol_offset(r.path, "_thread_db_pthread_start_routine");
    if (!offset) continue;
    uint32_t desc[3];
    auto bytes = std::span<uint8_t>(reinterpret_cast<uint8_t*>(desc), sizeof desc);
    if (ctx.reader.read(r.elf->load_address + *offset, bytes, ReadPurpose::inspect) != sizeof desc) continue;
    // A pointer-sized field, one element, inside the control block.
    if (desc[0] == 64 && desc[1] == 1 && desc[2] < 65536) {
      field_offset_ = desc[2];
      break;
    }
  }
}

uint64_t ThreadStarts::start_of(const ThreadEntry& t) const {
  if (t.tid == ctx_.snapshot.pid()) return entry_;
  if (!field_offset_ || t.regs.fs_base == 0 || t.capture != ThreadCapture::stopped) return 0;
  uint64_t routine = 0;
  auto bytes = std::span<uint8_t>(reinterpret_cast<uint8_t*>(&routine), sizeof routine);
  if (ctx_.reader.read(t.regs.fs_base + *field_offset_, bytes, ReadPurpose::inspect) != sizeof routine) return 0;
  return routine;
}

}  // namespace snapdump::writer
