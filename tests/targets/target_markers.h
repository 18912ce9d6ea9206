// Bytes at known addresses for the dump-type tests: a secret on the heap that only a stack
// local points at (MiniDumpWithIndirectlyReferencedMemory, MiniDumpFilterMemory, redaction by
// VmPostReadCallback), and a marker in the executable's .data (MiniDumpWithDataSegs).
#pragma once

#include <nlohmann/json.hpp>

namespace sdtarget {

// The secret buffer; created on first use. Its text is in markers_json().
char* secret_buffer();
// {"secret": {"addr", "text"}, "data_marker": {"addr", "text"}}
nlohmann::json markers_json();

}  // namespace sdtarget
