// The printers of `snapdump stacks` (tools/snapdump/stacks_report) with hostile names in every
// field that carries one (thread name, function, source file, module path, the walk's reason):
// the text holds nothing a terminal acts on and unescapes to the bytes; the JSON parses and gives
// every name back exactly (NAME_base64 when it is not UTF-8).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "name_escape.h"
#include "stacks_report.h"
#include "support/hostile_text.h"

namespace snapdump::cli {
namespace {

std::string printed(const unwind::Stacks& stacks, std::optional<uint64_t> pause) {
  char* buffer = nullptr;
  size_t size = 0;
  std::FILE* out = open_memstream(&buffer, &size);
  print_stacks(out, stacks, "process 7 (x)", pause);
  std::fclose(out);
  std::string text(buffer, size);
  std::free(buffer);
  return text;
}

std::string exact(const nlohmann::json& object, const std::string& key) {
  if (object.contains(key + "_base64")) {
    std::string bytes;
    EXPECT_TRUE(from_base64(object[key + "_base64"].get<std::string>(), bytes));
    return bytes;
  }
  return object[key].get<std::string>();
}

unwind::Stacks one_thread(const std::string& name) {
  unwind::Stacks stacks;
  stacks.pid = 7;
  unwind::ThreadStack t;
  t.tid = 8;
  t.name = name;
  unwind::Frame initial;
  initial.pc = 0x1000;
  initial.activation = true;
  initial.function = name;
  initial.symbol = name;
  initial.function_offset = 0x10;
  initial.source_file = name;
  initial.line = 12;
  initial.module = "/lib/" + name;
  initial.module_offset = 0x1000;
  initial.build_id = {0xab, 0xcd};
  unwind::Frame by_fp;
  by_fp.pc = 0x2000;
  by_fp.method = unwind::FrameMethod::frame_pointer;
  t.frames = {initial, by_fp};
  t.stopped = name;
  stacks.threads.push_back(t);
  stacks.modules.push_back({"/lib/" + name, 0, 0x3000, {0xab, 0xcd}, "", ""});
  return stacks;
}

TEST(StacksReport, EveryNameSurvivesTextAndJson) {
  for (const std::string& name : testing::hostile_names()) {
    unwind::Stacks stacks = one_thread(name);
    std::string text = printed(stacks, 1234567);
    EXPECT_EQ(testing::terminal_safe_problem(text), "") << escape_text(name);
    EXPECT_NE(text.find("thread 8 \"" + escape_text(name) + "\":"), std::string::npos) << escape_text(text);
    if (!name.empty()) {
      EXPECT_NE(text.find(" in " + escape_text(name) + "+0x10"), std::string::npos);
    }
    EXPECT_NE(text.find("the target was paused 1.235 ms"), std::string::npos);

    auto doc = nlohmann::json::parse(json_text(stacks_to_json(stacks, 1234567)));
    EXPECT_EQ(doc["pause_ns"], 1234567);
    const auto& thread = doc["threads"][0];
    EXPECT_EQ(exact(thread, "name"), name);
    const auto& f = thread["frames"][0];
    EXPECT_EQ(exact(f, "module"), "/lib/" + name);
    EXPECT_EQ(exact(doc["modules"][0], "path"), "/lib/" + name);
    if (name.empty()) {
      // No function, no source file, no reason: absent, as unknown members are.
      EXPECT_FALSE(f.contains("function"));
      EXPECT_FALSE(f.contains("source_file"));
      EXPECT_FALSE(thread.contains("stopped"));
      continue;
    }
    EXPECT_EQ(exact(thread, "stopped"), name);
    EXPECT_EQ(exact(f, "function"), name);
    EXPECT_EQ(exact(f, "symbol"), name);
    EXPECT_EQ(exact(f, "source_file"), name);
    EXPECT_EQ(f["build_id"], "abcd");
    EXPECT_EQ(f["method"], "initial");
    EXPECT_EQ(f["function_offset"], "0x10");
  }
}

// What is not known is absent, not empty or zero; the frame pointer is said in both outputs.
TEST(StacksReport, UnknownMembersAreAbsentAndTheFramePointerIsSaid) {
  unwind::Stacks stacks = one_thread("f");
  auto doc = stacks_to_json(stacks, std::nullopt);
  EXPECT_FALSE(doc.contains("pause_ns"));
  const auto& bare = doc["threads"][0]["frames"][1];
  EXPECT_EQ(bare["method"], "frame pointer");
  for (const char* key : {"function", "symbol", "source_file", "line", "module", "build_id"})
    EXPECT_FALSE(bare.contains(key)) << key;
  std::string text = printed(stacks, std::nullopt);
  EXPECT_NE(text.find("#1  0x0000000000002000 in ??  [via frame pointer]"), std::string::npos) << text;
  EXPECT_EQ(text.find("paused"), std::string::npos);
  EXPECT_NE(text.find("no ELF file found"), std::string::npos);
}

}  // namespace
}  // namespace snapdump::cli
