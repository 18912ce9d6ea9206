// V8 marks its JavaScript heap MADV_DONTFORK, which a fork leaves out of the child (issue 13): a
// --full dump of node, made from a VA clone, must hold every readable byte that a --full
// --no-clone dump of the same node (the stopped target itself) holds, and the target's VmFlags
// must be as they were. The node program (workers.js) runs two workers and holds markers in
// JavaScript strings, a Buffer and a 100 MiB WebAssembly.Memory; it is the run the RealProgram
// tests dump (program_run.h), so the dumps compared are theirs.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "real_programs/program_run.h"
#include "real_programs/programs.h"
#include "support/read_dump.h"

namespace snapdump::testing {
namespace {

struct Region {
  std::uint64_t end = 0;
  std::string flags;  // "start-end perms VmFlags..."
  bool dontfork() const { return has_dontfork(flags); }
};

// The regions identical (range, permissions and VmFlags) in every one of `reads`: those the
// program left alone across both dumps, whose bytes both dumps must hold alike.
std::map<std::uint64_t, Region> stable_regions(const std::vector<const std::map<std::uint64_t, std::string>*>& reads) {
  std::map<std::uint64_t, Region> out;
  for (const auto& [start, flags] : *reads.front()) {
    bool same = std::all_of(reads.begin(), reads.end(), [&](const auto* read) {
      auto it = read->find(start);
      return it != read->end() && it->second == flags;
    });
    if (same) out[start] = {std::stoull(flags.substr(flags.find('-') + 1), nullptr, 16), flags};
  }
  return out;
}

// The region holding `address`, or nullptr.
const Region* region_of(const std::map<std::uint64_t, Region>& regions, std::uint64_t address, std::uint64_t* start) {
  auto it = regions.upper_bound(address);
  if (it == regions.begin()) return nullptr;
  --it;
  if (address >= it->second.end) return nullptr;
  *start = it->first;
  return &it->second;
}

std::string hex(std::uint64_t v) {
  char text[32];
  std::snprintf(text, sizeof text, "%#llx", static_cast<unsigned long long>(v));
  return text;
}

class NodeDontFork : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = &ProgramRun::get(kNode);
    ASSERT_EQ(run_->error(), "");
    clone_ = run_->kept("full");
    held_ = run_->kept("full-no-clone");
    ASSERT_NE(clone_, nullptr);
    ASSERT_NE(held_, nullptr);
    stable_ = stable_regions({&clone_->flags_before, &clone_->flags_after, &held_->flags_before, &held_->flags_after});
  }
  ProgramRun* run_ = nullptr;
  const DumpRecord* clone_ = nullptr;
  const DumpRecord* held_ = nullptr;
  std::map<std::uint64_t, Region> stable_;
};

// Every byte the held dump has of a region the program left alone is in the clone's dump too;
// MADV_DONTFORK regions (the JavaScript heap) are most of what is compared.
TEST_F(NodeDontFork, TheCloneDumpHoldsEveryByteTheHeldDumpHolds) {
  reader::Minidump held = read_dump(held_->path);
  reader::Minidump cloned = read_dump(clone_->path);
  std::uint64_t compared = 0, compared_dontfork = 0;
  std::vector<std::string> missing;
  std::vector<std::uint8_t> buffer(1 << 20);
  for (const reader::MemoryRange& range : held.memory()) {
    const std::uint64_t range_end = range.address + range.bytes.size();
    for (std::uint64_t at = range.address; at < range_end;) {
      std::uint64_t start = 0;
      const Region* region = region_of(stable_, at, &start);
      if (!region) {
        // Not a stable region: skip to the next region that begins inside the range, if any.
        auto next = stable_.upper_bound(at);
        at = next == stable_.end() ? range_end : std::min(range_end, std::max(at + 1, next->first));
        continue;
      }
      const std::uint64_t end = std::min(range_end, region->end);
      for (std::uint64_t piece = at; piece < end;) {
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - piece));
        std::size_t got = cloned.read_memory(piece, std::span(buffer.data(), want));
        if (got < want) {
          missing.push_back(hex(piece + got) + " of " + region->flags);
          break;
        }
        piece += want;
      }
      compared += end - at;
      if (region->dontfork()) compared_dontfork += end - at;
      at = end;
    }
  }
  EXPECT_TRUE(missing.empty()) << missing.size() << " regions short in the clone's dump, the first: " << missing.front();
  std::size_t dontfork_regions = std::count_if(stable_.begin(), stable_.end(), [](const auto& r) { return r.second.dontfork(); });
  EXPECT_GT(dontfork_regions, 10u) << "V8 marks its heap MADV_DONTFORK: node should have many such regions";
  EXPECT_GT(compared_dontfork, 4u << 20) << "of " << compared << " bytes compared";
  std::printf("[ compared ] %.1f MiB in both dumps, %.1f MiB of it in %zu MADV_DONTFORK regions\n", compared / 1048576.0,
              compared_dontfork / 1048576.0, dontfork_regions);
}

// The Buffer's and the WebAssembly memory's bytes, which the program wrote once and never again,
// are the same in both dumps, all 100 MiB of the WebAssembly memory included; the JavaScript
// strings' marker is in MADV_DONTFORK memory in both.
TEST_F(NodeDontFork, MarkedMemoryIsTheSameInBothDumps) {
  reader::Minidump held = read_dump(held_->path);
  reader::Minidump cloned = read_dump(clone_->path);
  for (const auto& [marker, copies] : run_->ready()["markers"].items()) {
    SCOPED_TRACE(marker);
    std::map<std::uint64_t, std::uint64_t> regions;  // start -> end, of the regions holding it
    std::size_t in_dontfork = 0;
    for (const reader::MemoryRange& range : held.memory()) {
      for (std::size_t offset : find_all(range.bytes, marker)) {
        std::uint64_t start = 0;
        if (const Region* region = region_of(stable_, range.address + offset, &start)) {
          regions[start] = region->end;
          in_dontfork += region->dontfork();
        }
      }
    }
    ASSERT_FALSE(regions.empty()) << "the marker is in no region the program left alone";
    if (marker.rfind("snapdump-js-heap<", 0) == 0) {
      EXPECT_GE(in_dontfork, copies.get<std::size_t>()) << "JavaScript strings live in V8's MADV_DONTFORK heap";
      for (const reader::Minidump* dump : {&held, &cloned}) {
        std::size_t found = 0;
        for (const reader::MemoryRange& range : dump->memory()) {
          for (std::size_t offset : find_all(range.bytes, marker)) {
            std::uint64_t start = 0;
            const Region* region = region_of(stable_, range.address + offset, &start);
            found += region && region->dontfork();
          }
        }
        EXPECT_GE(found, copies.get<std::size_t>()) << (dump == &held ? "held dump" : "clone's dump");
      }
      continue;
    }
    // The Buffer and the WebAssembly memory: every byte of their regions equal in both dumps.
    std::uint64_t total = 0;
    for (const auto& [start, end] : regions) {
      std::vector<std::uint8_t> a(end - start), b(end - start);
      ASSERT_EQ(held.read_memory(start, a), a.size()) << hex(start);
      ASSERT_EQ(cloned.read_memory(start, b), b.size()) << hex(start);
      EXPECT_TRUE(a == b) << "the region at " << hex(start) << " differs between the dumps";
      total += end - start;
    }
    if (marker.rfind("snapdump-wasm<", 0) == 0) {
      EXPECT_GE(total, run_->ready()["wasm_bytes"].get<std::uint64_t>()) << "the WebAssembly memory is not whole";
    }
  }
}

}  // namespace
}  // namespace snapdump::testing
