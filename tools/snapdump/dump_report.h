// Printing what a minidump holds, for people: `snapdump inspect` and the demo.
#pragma once

#include <cstdio>

#include "snapdump/reader.h"

namespace snapdump::cli {

void print_dump(std::FILE* out, const reader::Minidump& dump);

}  // namespace snapdump::cli
