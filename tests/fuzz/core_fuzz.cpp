// libFuzzer entry point for the ELF core reader (view::CoreView): any bytes, every accessor and
// every byte of every mapping. The reader may refuse the input with Error(corrupt_input);
// anything else (a crash, a sanitizer report, another exception) is a bug. Seeded with the core
// tests/unit/core_view_test.cpp writes (SNAPDUMP_FUZZ_SEEDS, as core_hand.dmp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "snapdump/error.h"
#include "view/core_view.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto core = snapdump::view::CoreView::from_bytes(std::vector<uint8_t>(data, data + size), "input");
    volatile size_t n = core.process().command_line.size() + core.process().auxv.size() + core.gaps().size() +
                        core.problems().size();
    for (const auto& t : core.threads()) n = n + t.xsave.size();
    for (const auto& m : core.modules()) n = n + m.build_id.size();
    std::vector<uint8_t> buffer(1 << 16);
    for (const auto& m : core.mappings()) {
      uint64_t length = m.end - m.start < buffer.size() ? m.end - m.start : buffer.size();
      n = n + core.read_memory(m.start, std::span(buffer).first(length));
      for (const auto& [lo, hi] : core.held(m.start, m.end).value_or(std::vector<std::pair<uint64_t, uint64_t>>{})) {
        if (lo < m.start || hi > m.end || lo >= hi) std::abort();  // held() stays inside what was asked
      }
    }
    if (core.signal()) n = n + static_cast<size_t>(core.signal()->signo);
  } catch (const snapdump::Error& e) {
    if (e.code() != snapdump::Errc::corrupt_input) std::abort();
  }
  return 0;
}
