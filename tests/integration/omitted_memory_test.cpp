// No cap silently drops memory: readable memory a capture leaves out (a MADV_WIPEONFORK region
// over the pause's copy cap) is named in the dump's SnapdumpOmittedMemory stream, in the
// DumpResult, by `snapdump dump` on standard error and by `snapdump inspect`. Memory that fits
// under the cap is in the dump and no stream is written.
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "snapdump/format/constants.h"
#include "snapdump/minidump.h"
#include "snapdump/reader.h"
#include "snapdump/snapshot.h"
#include "support/external_readers.h"
#include "support/run_cli.h"
#include "support/read_dump.h"
#include "support/target_process.h"

namespace snapdump {
namespace {

using testing::TargetProcess;

constexpr DumpType kFullDump = dump::kWithFullMemory | dump::kWithFullMemoryInfo;

const nlohmann::json& mapping(const TargetProcess& target, const std::string& kind) {
  for (const auto& m : target.report()["mappings"]) {
    if (m["kind"] == kind) return m;
  }
  throw std::runtime_error("no " + kind + " mapping");
}

TEST(OmittedMemory, ARegionOverTheCopyCapIsNamedInTheDump) {
  auto target = TargetProcess::spawn({"--mappings"});
  const auto& wipe = mapping(*target, "wipeonfork");
  uint64_t start = testing::parse_address(wipe["start"]);
  uint64_t size = wipe["size"].get<uint64_t>();
  CaptureOptions options;
  options.max_uncloneable_bytes = 0;  // nothing may be copied in the pause
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(kFullDump) | capture::kVaClone, context::kAll, options);
  const Region* region = nullptr;
  for (const Region& r : snap.regions()) {
    if (r.start == start) region = &r;
  }
  ASSERT_NE(region, nullptr);
  EXPECT_EQ(region->copy, RegionCopy::unreadable);
  EXPECT_EQ(region->omitted, RegionOmission::over_copy_cap);

  std::string path = testing::temp_dump_path("omitted");
  DumpOptions dump;
  dump.type = kFullDump;
  DumpResult result = write_minidump(snap, path, dump);
  EXPECT_GE(result.omitted_regions, 1u);
  EXPECT_GE(result.omitted_bytes, size);
  auto d = testing::read_dump(path);
  auto omitted = d.omitted_memory();
  bool named = false;
  for (const auto& o : omitted) {
    EXPECT_NE(o.reason, "unparsed") << o.path;
    if (o.start == start && o.end == start + size && o.reason == "over-copy-cap") named = true;
  }
  EXPECT_TRUE(named) << d.text_stream(static_cast<uint32_t>(format::StreamType::SnapdumpOmittedMemory)).value_or("(no stream)");
  // And its bytes are indeed absent, not zeros.
  std::vector<uint8_t> bytes(size);
  EXPECT_EQ(d.read_memory(start, bytes), 0u);
  std::filesystem::remove(path);
}

TEST(OmittedMemory, NothingIsOmittedUnderTheCapAndNoStreamIsWritten) {
  auto target = TargetProcess::spawn({"--mappings"});
  const auto& wipe = mapping(*target, "wipeonfork");
  Snapshot snap = Snapshot::capture(target->pid(), capture_flags_for(kFullDump) | capture::kVaClone, context::kAll);
  std::string path = testing::temp_dump_path("not_omitted");
  DumpOptions dump;
  dump.type = kFullDump;
  DumpResult result = write_minidump(snap, path, dump);
  EXPECT_EQ(result.omitted_regions, 0u);
  auto d = testing::read_dump(path);
  EXPECT_FALSE(d.stream(static_cast<uint32_t>(format::StreamType::SnapdumpOmittedMemory)));
  std::vector<uint8_t> bytes(wipe["size"].get<size_t>());
  EXPECT_EQ(d.read_memory(testing::parse_address(wipe["start"]), bytes), bytes.size());
  std::filesystem::remove(path);
}

TEST(OmittedMemory, TheCliNamesWhatItLeftOutAndInspectShowsIt) {
  auto target = TargetProcess::spawn({"--mappings"});
  uint64_t start = testing::parse_address(mapping(*target, "wipeonfork")["start"]);
  std::string path = testing::temp_dump_path("cli_omitted");
  auto r = testing::run_cli({"dump", std::to_string(target->pid()), "--full", "--copy-cap", "0", "--no-progress", "-o", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("are not in the dump"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--copy-cap"), std::string::npos) << r.err;
  auto text = testing::run_cli({"inspect", path});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("does not hold"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("over-copy-cap"), std::string::npos) << text.out;
  auto json = testing::run_cli({"inspect", "--json", path});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  bool listed = false;
  nlohmann::json report = nlohmann::json::parse(json.out);
  for (const auto& o : report["omitted_memory"]) {
    if (o["start"].get<uint64_t>() == start && o["reason"] == "over-copy-cap") listed = true;
  }
  EXPECT_TRUE(listed) << "wipeonfork at " << start << ": " << json.out;
  // Breakpad's reader takes a dump with a stream it does not know.
  auto breakpad = testing::run_minidump_dump(path);
  EXPECT_TRUE(breakpad.ok) << breakpad.err;
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace snapdump
