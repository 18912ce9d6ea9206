// libFuzzer entry point: any bytes, every accessor. The reader may reject the input with
// Error(corrupt_input) from from_bytes; anything else (a crash, a sanitizer report, another
// exception, an accessor throwing) is a bug.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "snapdump/format/constants.h"
#include "snapdump/reader.h"

using snapdump::reader::Minidump;

namespace {

void exercise(const Minidump& dump) {
  (void)dump.header();
  for (const auto& s : dump.streams()) {
    if (auto bytes = dump.stream(s.type); bytes && !bytes->empty()) {
      volatile uint8_t last = bytes->back();  // the span must lie inside the input
      (void)last;
    }
    (void)dump.text_stream(s.type);
  }
  (void)dump.problems();
  (void)dump.system_info();
  (void)dump.misc_info();
  auto misc = dump.misc_info();
  for (const auto& t : dump.threads()) {
    if (misc) {
      for (unsigned feature : {2u, 5u, 7u}) {
        if (auto f = snapdump::reader::xstate_feature(t.context_bytes, *misc, feature); f && !f->empty()) {
          volatile uint8_t b = f->back();
          (void)b;
        }
      }
    }
    if (!t.stack.empty()) {
      volatile uint8_t b = t.stack.back();
      (void)b;
    }
    if (!t.context_bytes.empty()) {
      volatile uint8_t b = t.context_bytes.back();
      (void)b;
    }
  }
  (void)dump.modules();
  (void)dump.unloaded_modules();
  uint8_t buf[256];
  for (const auto& r : dump.memory()) {
    if (!r.bytes.empty()) {
      volatile uint8_t b = r.bytes.back();
      (void)b;
    }
    (void)dump.read_memory(r.address, buf);
    (void)dump.read_memory(r.address + r.bytes.size() - 1, buf);
  }
  (void)dump.read_memory(0, buf);
  (void)dump.memory_info();
  (void)dump.handles();
  (void)dump.exceptions();
  for (const auto& t : dump.tokens()) {
    if (!t.data.empty()) {
      volatile uint8_t b = t.data.back();
      (void)b;
    }
  }
  if (auto dso = dump.dso_debug(); dso && !dso->dynamic_section.empty()) {
    volatile uint8_t b = dso->dynamic_section.back();
    (void)b;
  }
  (void)dump.text_stream(static_cast<uint32_t>(snapdump::format::StreamType::CommentW));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto dump = Minidump::from_bytes(std::vector<uint8_t>(data, data + size));
    try {
      exercise(dump);
    } catch (...) {
      std::abort();  // accessors promise not to throw
    }
  } catch (const snapdump::Error& e) {
    if (e.code() != snapdump::Errc::corrupt_input) std::abort();
  }
  return 0;
}
