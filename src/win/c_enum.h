// The integer a C caller passed where the Windows API takes an enum.
#pragma once

#include <cstring>

namespace snapdump::win {

// C enums are ints, and C code passes any int there: a class number from a newer SDK, a stray
// value. In C++, reading an enum object whose value lies outside the enum's range is undefined
// (Clang's -fsanitize=enum stops the program there), so the parameter's bytes are read as the
// integer they are, and compared with the enumerators as integers: an unknown value is then an
// ordinary ERROR_INVALID_PARAMETER.
template <class Enum>
int c_enum_value(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(int), "a C enum of this API is an int");
  int out = 0;
  std::memcpy(&out, &value, sizeof out);
  return out;
}

}  // namespace snapdump::win
