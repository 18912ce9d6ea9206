// How the CLI prints names. On Linux a thread name, a path, an fd's link target, a socket
// address, the command line and the environment are bytes: any byte but NUL, UTF-8 or not, and
// a name may hold a terminal's escape sequences. Two rules (docs/names.md) keep every printer
// from failing on such a name and every name from reaching the user altered or raw:
//
// Text (escape_text): printable UTF-8 passes unchanged; a backslash becomes "\\"; a control byte
// (0x00-0x1F, 0x7F) and each byte that is not part of well-formed UTF-8 becomes "\xHH"; a C1
// control (U+0080-U+009F) or an invisible character that reorders or hides text (zero-width,
// bidirectional controls, U+2028/9, U+FEFF) becomes "\u{HHHH}". No escape sequence reaches the
// terminal, and unescape_text gives back the exact bytes.
//
// JSON (put_name): a name that is valid UTF-8 is the member's string, exact (JSON's own escapes
// cover its control characters). Any other name keeps the member, as a string that shows each
// byte of invalid UTF-8 as "\xHH" (for people; not unique), and gets a sibling member
// KEY_base64 with the exact bytes in standard base64 (RFC 4648). A script that needs the bytes
// reads KEY_base64 when it is there, KEY otherwise.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace snapdump::cli {

// True when bytes are well-formed UTF-8 (no overlong forms, no surrogates, nothing past
// U+10FFFF): what a JSON string may hold.
bool is_utf8(std::string_view bytes);

std::string escape_text(std::string_view bytes);
// The same line by line, keeping the newlines: for messages of several lines.
std::string escape_lines(std::string_view text);
// The inverse of escape_text; text that escape_text cannot have produced is returned with its
// malformed escapes kept as they are.
std::string unescape_text(std::string_view text);

// Standard base64 with padding, and its inverse (nullopt-like: false on malformed input).
std::string base64(std::string_view bytes);
bool from_base64(std::string_view text, std::string& bytes);

// The JSON rule above: object[key] = bytes, plus object[key + "_base64"] when not UTF-8.
void put_name(nlohmann::json& object, const std::string& key, std::string_view bytes);
// The member's string alone (valid UTF-8, invalid bytes as "\xHH"), for arrays of names.
std::string json_display(std::string_view bytes);

// The document as text, indented by `indent`. Never throws: every string in it is valid UTF-8
// when built with put_name, and anything else is shown as json_display would. The characters
// escape_text writes as \u{...} are written as JSON \uXXXX escapes, so a terminal never sees
// them raw either.
std::string json_text(const nlohmann::json& document, int indent = 2);

// The rules as --help states them.
inline constexpr const char* kJsonFlagHelp =
    "print JSON for scripts instead of text. A name (thread, path, fd target, socket address, command "
    "line, string read from a dump) that is valid UTF-8 is its member, exact; any other is shown in its "
    "member with each invalid byte as \\xHH, and its exact bytes are in a member of the same name with "
    "_base64 appended (standard base64). Never fails on any name.";
inline constexpr const char* kNamesHelp =
    "Names are printed as they are when they are printable UTF-8. In text output a backslash is "
    "written \\\\, a control byte (ESC, newline, ...) or a byte that is not UTF-8 as \\xHH, and a C1 "
    "control or an invisible character that reorders text (bidirectional controls, zero-width "
    "characters) as \\u{HHHH}: nothing in a name reaches the terminal raw, and the original bytes can "
    "be recovered. JSON: see --json. Details: docs/names.md.";

}  // namespace snapdump::cli
