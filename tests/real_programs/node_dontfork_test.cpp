// V8 marks its JavaScript heap MADV_DONTFORK, which a fork leaves out of the child (issue 13): a
// --full dump of node, made from a VA clone, must hold every readable byte that a --full
// --no-clone dump of the same node (the stopped target itself) holds, and the target's VmFlags
// must be as they were (RealProgram.VmFlagsAreTheSameAfterEachDump). The node program
// (workers.js) runs two workers and holds markers in JavaScript strings, a Buffer and a 100 MiB
// WebAssembly.Memory; it is the run the RealProgram tests dump (program_run.h), which makes three
// more dumps for these tests: held, clone, held. A full dump holds the pages that exist
// (docs/minidump.md), and the program may touch or free a page between two dumps; a page both
// held dumps have existed all along, so the clone's dump, made between them, must have it.
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
  for (const auto& entry : *reads.front()) {
    // (Not a structured binding: Clang 14, which builds the sanitized tree, cannot capture one.)
    const std::uint64_t start = entry.first;
    const std::string& flags = entry.second;
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

// The three dumps, made once for both tests.
struct Dumps {
  DumpRecord held_before, clone, held_after;
  std::map<std::uint64_t, Region> stable;  // regions the same in all six smaps reads
};

const Dumps& dumps(ProgramRun& run) {
  static const Dumps made = [&] {
    Dumps d;
    d.held_before = run.extra_dump("full-no-clone");
    d.clone = run.extra_dump("full");
    d.held_after = run.extra_dump("full-no-clone");
    d.stable = stable_regions({&d.held_before.flags_before, &d.held_before.flags_after, &d.clone.flags_before,
                               &d.clone.flags_after, &d.held_after.flags_before, &d.held_after.flags_after});
    return d;
  }();
  return made;
}

// [address, end) ranges of a dump's memory, sorted.
std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges(const reader::Minidump& dump) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (const reader::MemoryRange& r : dump.memory()) out.emplace_back(r.address, r.address + r.bytes.size());
  return out;
}

// The ranges both sorted lists cover.
std::vector<std::pair<std::uint64_t, std::uint64_t>> intersect(const std::vector<std::pair<std::uint64_t, std::uint64_t>>& a,
                                                               const std::vector<std::pair<std::uint64_t, std::uint64_t>>& b) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    std::uint64_t lo = std::max(a[i].first, b[j].first), hi = std::min(a[i].second, b[j].second);
    if (lo < hi) out.emplace_back(lo, hi);
    (a[i].second < b[j].second ? i : j)++;
  }
  return out;
}

class NodeDontFork : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = &ProgramRun::get(kNode);
    ASSERT_EQ(run_->error(), "");
    d_ = &dumps(*run_);
    for (const DumpRecord* r : {&d_->held_before, &d_->clone, &d_->held_after}) {
      ASSERT_EQ(r->cli.exit_code, 0) << r->cli.err;
      ASSERT_EQ(r->read_error, "");
    }
  }
  ProgramRun* run_ = nullptr;
  const Dumps* d_ = nullptr;
};

// Every byte both held dumps have of a region the program left alone is in the clone's dump too;
// MADV_DONTFORK regions (the JavaScript heap) are most of what is compared.
TEST_F(NodeDontFork, TheCloneDumpHoldsEveryByteTheHeldDumpsHold) {
  reader::Minidump cloned = read_dump(d_->clone.path);
  auto both = intersect(ranges(read_dump(d_->held_before.path)), ranges(read_dump(d_->held_after.path)));
  std::uint64_t compared = 0, compared_dontfork = 0;
  std::vector<std::string> missing;
  std::vector<std::uint8_t> buffer(1 << 20);
  for (const auto& [range_start, range_end] : both) {
    for (std::uint64_t at = range_start; at < range_end;) {
      std::uint64_t start = 0;
      const Region* region = region_of(d_->stable, at, &start);
      if (!region) {
        // Not a stable region: on to the next one that begins inside the range, if any.
        auto next = d_->stable.upper_bound(at);
        at = next == d_->stable.end() ? range_end : std::min(range_end, next->first);
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
  std::size_t dontfork_regions =
      std::count_if(d_->stable.begin(), d_->stable.end(), [](const auto& r) { return r.second.dontfork(); });
  EXPECT_GT(dontfork_regions, 10u) << "V8 marks its heap MADV_DONTFORK: node should have many such regions";
  EXPECT_GT(compared_dontfork, 4u << 20) << "of " << compared << " bytes compared";
  std::printf("[ compared ] %.1f MiB in all three dumps, %.1f MiB of it in %zu MADV_DONTFORK regions\n",
              compared / 1048576.0, compared_dontfork / 1048576.0, dontfork_regions);
}

// The Buffer's and the WebAssembly memory's bytes, which the program wrote once and never again,
// are the same in the held and the clone's dumps, all 32 and 100 MiB of them; the JavaScript
// strings' marker is in MADV_DONTFORK memory in both, as often as the program holds it.
TEST_F(NodeDontFork, MarkedMemoryIsTheSameInBothKindsOfDump) {
  reader::Minidump held = read_dump(d_->held_before.path);
  reader::Minidump cloned = read_dump(d_->clone.path);
  const auto& ready = run_->ready();
  const std::map<std::string, std::uint64_t> whole = {{"snapdump-buffer<", ready.at("buffer_bytes").get<std::uint64_t>()},
                                                      {"snapdump-wasm<", ready.at("wasm_bytes").get<std::uint64_t>()}};
  for (const auto& item : ready.at("markers").items()) {
    const std::string marker = item.key();  // named, not bound: Clang 14 cannot capture a binding
    SCOPED_TRACE(marker);
    // The regions holding the marker: start -> how often.
    auto where = [&](const reader::Minidump& dump) {
      std::map<std::uint64_t, std::size_t> hits;
      for (const reader::MemoryRange& range : dump.memory()) {
        for (std::size_t offset : find_all(range.bytes, marker)) {
          std::uint64_t start = 0;
          if (region_of(d_->stable, range.address + offset, &start)) ++hits[start];
        }
      }
      return hits;
    };
    auto held_hits = where(held), cloned_hits = where(cloned);
    if (marker.rfind("snapdump-js-heap<", 0) == 0) {
      for (const auto* hits : {&held_hits, &cloned_hits}) {
        std::size_t in_dontfork = 0;
        for (const auto& [start, n] : *hits) in_dontfork += d_->stable.at(start).dontfork() ? n : 0;
        EXPECT_GE(in_dontfork, item.value().get<std::size_t>())
            << (hits == &held_hits ? "held dump" : "clone's dump") << ": JavaScript strings live in V8's MADV_DONTFORK heap";
      }
      continue;
    }
    // The Buffer's or the WebAssembly memory's region: the one holding (nearly) every copy, a
    // copy a megabyte; the few elsewhere are the program's own pieces of the marker text.
    auto prefix = marker.substr(0, marker.find('<') + 1);
    ASSERT_TRUE(whole.count(prefix));
    std::uint64_t compared = 0;
    for (const auto& [start, n] : held_hits) {
      if (n < item.value().get<std::size_t>() / 2) continue;
      EXPECT_EQ(cloned_hits[start], n) << "the region at " << hex(start);
      const Region& region = d_->stable.at(start);
      std::vector<std::uint8_t> a(region.end - start), b(region.end - start);
      EXPECT_EQ(held.read_memory(start, a), a.size()) << "held dump, the region at " << hex(start);
      EXPECT_EQ(cloned.read_memory(start, b), b.size()) << "clone's dump, the region at " << hex(start);
      EXPECT_TRUE(a == b) << "the region at " << hex(start) << " differs between the dumps";
      compared += a.size();
    }
    EXPECT_GE(compared, whole.at(prefix)) << "the marked memory is not whole in the dumps";
  }
}

}  // namespace
}  // namespace snapdump::testing
