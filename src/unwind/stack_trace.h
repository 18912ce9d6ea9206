// What the unwinder found: every thread's frames, each with how it was found and what it is
// (function+offset, source line, module and build-id), as far as the debug information at hand
// allows. Plain values: the CLI prints them as text or JSON, the tests compare them.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace snapdump::unwind {

// How a frame's registers were recovered. Never by scanning the stack for return addresses:
// a frame that neither the CFI nor the frame pointer chain gives ends the walk instead.
enum class FrameMethod {
  initial,        // the thread's captured registers
  cfi,            // the caller's CFI (.eh_frame or .debug_frame) unwound the frame below it
  frame_pointer,  // no CFI for the frame below: its rbp chain ([rbp] and [rbp+8]) was followed
};
const char* to_string(FrameMethod method) noexcept;

struct Frame {
  uint64_t pc = 0;
  // False for a return address (the call is at pc-1, which is what is looked up); true for the
  // thread's own pc and a frame interrupted by a signal.
  bool activation = false;
  FrameMethod method = FrameMethod::initial;
  std::string function;      // demangled ("" if no symbol covers pc)
  std::string symbol;        // the symbol as the ELF file spells it (mangled)
  uint64_t function_offset = 0;  // pc - the symbol's start
  std::string source_file;   // "" without line information
  int line = 0, column = 0;
  std::string module;        // the module's path ("" if pc is in none, e.g. JIT code)
  uint64_t module_offset = 0;  // pc - the module's load address
  std::vector<uint8_t> build_id;
  std::string debug_file;    // where its debug information came from ("" if none was found)
};

struct ThreadStack {
  pid_t tid = 0;
  std::string name;
  std::vector<Frame> frames;  // innermost first
  // Why the walk stopped before the outermost frame, in words ("" when it reached the end:
  // the thread's start function, whose caller is undefined).
  std::string stopped;
};

struct ModuleInfo {
  std::string path;
  uint64_t base = 0, end = 0;
  std::vector<uint8_t> build_id;
  std::string elf_file;    // the ELF file the unwinder used ("" if none was found)
  std::string debug_file;  // where its DWARF came from ("" if none)
};

struct Stacks {
  pid_t pid = 0;
  std::vector<ThreadStack> threads;
  std::vector<ModuleInfo> modules;  // the modules any frame is in, in address order
  std::vector<std::string> gaps;    // what the source could not give (ProcessView::gaps())
};

}  // namespace snapdump::unwind
