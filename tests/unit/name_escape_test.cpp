// The rules that keep names intact in the CLI's output (tools/snapdump/name_escape.h): text
// escapes everything a terminal would act on and can be undone exactly; JSON never fails and
// keeps the exact bytes of a name that is not UTF-8 in a KEY_base64 member.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "name_escape.h"
#include "support/hostile_text.h"

namespace snapdump::cli {
namespace {

using snapdump::testing::hostile_names;
using snapdump::testing::terminal_safe_problem;

TEST(NameEscape, TextEscapesControlsInvalidBytesAndInvisibleCharacters) {
  EXPECT_EQ(escape_text("\xff\xfe" "bad"), "\\xff\\xfebad");
  EXPECT_EQ(escape_text("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(escape_text(std::string("a\0b\n\t\x7f", 6)), "a\\x00b\\x0a\\x09\\x7f");
  EXPECT_EQ(escape_text("C:\\dir"), "C:\\\\dir");
  EXPECT_EQ(escape_text("\xc2\x9b" "2J"), "\\u{009b}2J");               // CSI as a C1 control
  EXPECT_EQ(escape_text("evil\xe2\x80\xaetxt.exe"), "evil\\u{202e}txt.exe");  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_EQ(escape_text("\xef\xbb\xbfx\xe2\x80\x8by"), "\\u{feff}x\\u{200b}y");
  // Ill-formed UTF-8: overlong, encoded surrogate, past U+10FFFF, truncated, stray continuation.
  EXPECT_EQ(escape_text("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(escape_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  EXPECT_EQ(escape_text("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
  EXPECT_EQ(escape_text("ok\xe2\x82"), "ok\\xe2\\x82");
  EXPECT_EQ(escape_text("\x80z"), "\\x80z");
  // Printable UTF-8 passes unchanged.
  const std::string text = "\xd0\x96\xd1\x83\xd0\xba caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad";
  EXPECT_EQ(escape_text(text), text);
}

TEST(NameEscape, TextRuleIsUndoneExactlyAndSafeForAnyBytes) {
  std::mt19937 random(12);
  std::vector<std::string> cases = hostile_names();
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(random() % 24, '\0');
    // Mostly the bytes that make UTF-8 interesting, so that valid sequences occur too.
    for (char& c : bytes) {
      uint32_t r = random();
      c = static_cast<char>(r % 3 == 0 ? r >> 8 : (r % 3 == 1 ? 0x80 + (r >> 8) % 0x40 : 0xC0 + (r >> 8) % 0x38));
    }
    cases.push_back(bytes);
  }
  for (const std::string& bytes : cases) {
    const std::string text = escape_text(bytes);
    EXPECT_EQ(unescape_text(text), bytes) << text;
    EXPECT_EQ(terminal_safe_problem(text), "") << text;
  }
}

TEST(NameEscape, EscapeLinesKeepsTheLines) {
  EXPECT_EQ(escape_lines("one\x1b\ntwo\xff\n"), "one\\x1b\ntwo\\xff\n");
}

TEST(NameEscape, Base64FollowsRfc4648) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64(plain), encoded);
    std::string back;
    ASSERT_TRUE(from_base64(encoded, back)) << encoded;
    EXPECT_EQ(back, plain);
  }
  EXPECT_EQ(base64("\xff\xfe" "bad"), "//5iYWQ=");
  std::string ignored;
  EXPECT_FALSE(from_base64("Zg=", ignored));
  EXPECT_FALSE(from_base64("Z=g=", ignored));
  EXPECT_FALSE(from_base64("Zm9*", ignored));
}

// Every hostile name through put_name and json_text: the text parses with a strict parser, a
// UTF-8 name comes back exact with no _base64 member, any other comes back exact from it.
TEST(NameEscape, JsonKeepsEveryNameAndNeverFails) {
  nlohmann::json document = nlohmann::json::array();
  const std::vector<std::string> names = hostile_names();
  for (const std::string& name : names) {
    nlohmann::json entry = nlohmann::json::object();
    put_name(entry, "name", name);
    document.push_back(entry);
  }
  std::string text;
  ASSERT_NO_THROW(text = json_text(document));
  EXPECT_EQ(terminal_safe_problem(text), "");
  nlohmann::json parsed = nlohmann::json::parse(text);
  ASSERT_EQ(parsed.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const nlohmann::json& entry = parsed[i];
    ASSERT_TRUE(entry["name"].is_string());
    if (is_utf8(names[i])) {
      EXPECT_FALSE(entry.contains("name_base64")) << i;
      EXPECT_EQ(entry["name"].get<std::string>(), names[i]) << i;
    } else {
      std::string bytes;
      ASSERT_TRUE(from_base64(entry["name_base64"].get<std::string>(), bytes)) << i;
      EXPECT_EQ(bytes, names[i]) << i;
      EXPECT_EQ(entry["name"].get<std::string>(), json_display(names[i])) << i;
    }
  }
}

TEST(NameEscape, JsonShowsTheDisplayFormOfAnInvalidName) {
  nlohmann::json entry = nlohmann::json::object();
  put_name(entry, "name", "\xff\xfe" "bad");
  EXPECT_EQ(json_text(entry, -1), R"({"name":"\\xff\\xfebad","name_base64":"//5iYWQ="})");
}

TEST(NameEscape, JsonWritesInvisibleAndC1CharactersAsEscapes) {
  nlohmann::json entry = {{"name", "a\x7f" "b\xc2\x9b" "c\xe2\x80\xae" "d\x1b"}};
  EXPECT_EQ(json_text(entry, -1), R"({"name":"a\u007fb\u009bc\u202ed\u001b"})");
  EXPECT_EQ(nlohmann::json::parse(json_text(entry))["name"], entry["name"]);
}

// A document that did not go through put_name (a string member holding raw bytes) is still
// written, with the invalid bytes shown as \xHH, instead of throwing.
TEST(NameEscape, JsonTextNeverThrowsEvenForRawBytes) {
  nlohmann::json entry = {{"name", "\xff\xfe" "bad"}, {"list", {"ok", "\xc3"}}, {"\xff", 1}};
  std::string text;
  ASSERT_NO_THROW(text = json_text(entry, -1));
  // Keys sort bytewise: the shown key "\xff" starts with a backslash, before "list".
  EXPECT_EQ(text, R"({"\\xff":1,"list":["ok","\\xc3"],"name":"\\xff\\xfebad"})");
}

}  // namespace
}  // namespace snapdump::cli
