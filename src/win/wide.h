// UTF-8 <-> wchar_t (UTF-32 on Linux) for the W entry points and the WCHAR fields of PSS
// entries. Invalid UTF-8 bytes become U+FFFD rather than failing: names come from the kernel
// and need not be valid text.
#pragma once

#include <string>
#include <string_view>

namespace snapdump::win {

std::wstring widen(std::string_view utf8);
std::string narrow(std::wstring_view wide);

}  // namespace snapdump::win
